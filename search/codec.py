"""Our Whoosh codec: posting blocks stored as packed arrays, decodable with numpy in one call.

Whoosh's W3 codec stores a block of up to 128 postings as a zlib-compressed pickle of Python
tuples, plus one pickled position list per posting: ~1,400 ns per posting just to read it back.
This codec keeps everything else of W3 (terms table, columns, stored fields, segments, TOC) and
replaces only the postings blocks with packed little-endian arrays:

    block   = int32 length (negative for the last block of a term) + HEADER + data
    HEADER  = count u32, max id u32, max weight f64 (as W3 keeps it), min/max length bytes, codes
    data    = document ids (delta-coded; ``cumsum`` restores them)
            + weights (none when all 1.0, one float32 when all equal, else float32 per posting)
            + values: positions (per-posting counts, then every position), with start and end
              characters for ``Characters`` fields; nothing for ``Existence``; the raw value bytes
              (sizes, then bytes) for any other format.

Integer arrays (``search/packed.py``) take the smallest of u1/u2/u4/i8 that holds them, so a block
decodes with ``numpy.frombuffer`` + ``cumsum`` and no Python loop, and positions are decoded
only when asked for.

Every access to Whoosh internals lives in this module, written against Whoosh 2.7.4 exactly
(pinned in setup.cfg): the matcher subclasses ``W3LeafMatcher`` and so serves Whoosh's whole
matcher interface (merges, phrase and span queries, block-quality skipping keep working), and
``block_arrays``/``postings_arrays`` hand the same postings out as numpy arrays.

W3 never inlines postings into the terms table (``W3PostingsWriter.finish_postings`` calls a
``set_inline`` that does not exist, behind an ``inlinelimit`` of 1 that keeps it unreachable),
so neither does this codec: every term, rare or not, has its postings in packed blocks.
"""

from __future__ import annotations

import struct
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import replace
from itertools import accumulate
from pickle import loads
from typing import Any

import numpy as np
import whoosh
from whoosh import formats
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, FileIndex
from whoosh.matching import Matcher, ReadTooFar
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import ReaderClosed, TermNotFound
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.bulkwriter import BulkSegmentWriter
from search.packed import (
    _FLOAT32,
    VALUES_CHARACTERS,
    VALUES_NONE,
    VALUES_POSITIONS,
    VALUES_RAW,
    WEIGHTS_EACH,
    WEIGHTS_ONE,
    WEIGHTS_SAME,
    BlockArrays,
    concatenate,
    decode_id_weight_lists,
    decode_ids_weights,
    decode_position_lists,
    decode_positions,
    pack_characters,
    pack_int_array,
    pack_ints,
    pack_weights,
    unpack_ints,
    without,
)
from search.packed_terms import decode_term, kept, positions_of

WHOOSH_VERSION = "2.7.4"
if ".".join(map(str, whoosh.__version__)) != WHOOSH_VERSION:
    # the classes below subclass this version's internals; another version needs them checked
    raise ImportError(f"police-search needs Whoosh {WHOOSH_VERSION} exactly, not {whoosh.versionstring()}")
BLOCK_MAGIC = b"PkB1"
_LENGTH = struct.Struct("<i")
# count, max id, max weight, min length byte, max length byte, reserved (0), weight mode, value mode
_HEADER = struct.Struct("<IIdBBBBB")


def _value_mode(format_: formats.Format) -> int:
    """How a field's posting values are packed; exact types, since a subclass may encode differently."""
    kind = type(format_)
    if kind is formats.Existence:
        return VALUES_NONE
    if kind is formats.Positions:
        return VALUES_POSITIONS
    if kind is formats.Characters:
        return VALUES_CHARACTERS
    return VALUES_RAW


def _position_codes(vbytes: bytes) -> list[Any]:
    """The delta codes inside a ``Positions``/``Characters`` value (a uint count, then a pickle)."""
    if not vbytes.endswith(b"."):  # as Positions.decode_positions: the stop opcode may be stripped
        vbytes += b"."
    return loads(vbytes[4:])


class PackedPostingsWriter(W3PostingsWriter):
    """W3's postings writer (block buffering, term statistics) with packed blocks."""

    def __init__(self, postfile: Any, blocklimit: int):
        super().__init__(postfile, blocklimit, byteids=False, compression=0, inlinelimit=1)

    def start_postings(self, format_: formats.Format, terminfo: Any) -> None:
        self._value_mode = _value_mode(format_)
        super().start_postings(format_, terminfo)

    def add_posting(self, id_: int, weight: float, vbytes: bytes | None, length: int | None = None) -> None:
        # W3's, without its per-posting type asserts, and keeping every value (even empty) in
        # step with its id
        if len(self._ids) >= self._blocklimit:
            self._write_block()
        self._ids.append(id_)
        self._weights.append(weight)
        if weight > self._maxweight:
            self._maxweight = weight
        self._values.append(vbytes or b"")
        if length:
            if self._minlength is None or length < self._minlength:
                self._minlength = length
            if length > self._maxlength:
                self._maxlength = length

    def _write_block(self, last: bool = False) -> None:
        ids = self._ids
        deltas = [ids[0]]
        deltas.extend(ids[i] - ids[i - 1] for i in range(1, len(ids)))
        self._emit_block(pack_ints(deltas), *pack_weights(self._weights), self._pack_values(), last)

    def add_term_arrays(
        self, ids: np.ndarray, weights: np.ndarray, counts: np.ndarray, positions: np.ndarray, lengths: np.ndarray
    ) -> None:
        """Every block of one term of a ``Positions`` field, from its postings as arrays: ids
        ascending, float64 weights, a frequency and its positions per posting (at least one),
        each document's field length (0: none). The bytes and term statistics ``add_posting``
        per posting and ``_write_block`` give, with every block's maxima taken at once; weights
        are float64, as W3 takes the maximum before storing them as float32."""
        total = len(ids)
        starts = np.arange(0, total, self._blocklimit)
        ids64 = ids.astype(np.int64)
        deltas = np.diff(ids64, prepend=0)
        deltas[starts] = ids64[starts]  # a block's first delta is its first id
        weights32 = weights.astype(np.float32)
        position_starts = np.zeros(total + 1, dtype=np.int64)
        np.cumsum(counts, out=position_starts[1:])
        block_ends = [*starts[1:].tolist(), total]
        maxweights = np.maximum.reduceat(weights, starts).tolist()
        lowest, highest = np.minimum.reduceat(weights32, starts), np.maximum.reduceat(weights32, starts)
        unknown = np.iinfo(np.int64).max
        minlengths = np.minimum.reduceat(np.where(lengths > 0, lengths, unknown), starts).tolist()
        maxlengths = np.maximum.reduceat(lengths, starts).tolist()
        top_deltas = np.maximum.reduceat(deltas, starts).tolist()
        top_counts = np.maximum.reduceat(counts, starts).tolist()
        top_positions = np.maximum.reduceat(positions, position_starts[starts]).tolist()
        for number, start in enumerate(starts.tolist()):
            end = block_ends[number]
            self._ids = ids64[start:end].tolist()
            self._weights = array("f", weights32[start:end].tobytes())
            self._maxweight = max(0, maxweights[number])
            self._minlength = None if minlengths[number] == unknown else minlengths[number]
            self._maxlength = maxlengths[number]
            if lowest[number] == highest[number] == 1.0:
                weight_mode, weight_bytes = WEIGHTS_ONE, b""
            elif lowest[number] == highest[number]:
                weight_mode, weight_bytes = WEIGHTS_SAME, _FLOAT32.pack(lowest[number])
            else:
                weight_mode, weight_bytes = WEIGHTS_EACH, weights32[start:end].astype("<f4", copy=False).tobytes()
            first, last = position_starts[start], position_starts[end]
            values = pack_int_array(counts[start:end], top_counts[number])
            values += pack_int_array(positions[first:last], top_positions[number])
            id_bytes = pack_int_array(deltas[start:end], top_deltas[number])
            self._emit_block(id_bytes, weight_mode, weight_bytes, values, end == total)

    def add_block_lists(
        self,
        ids: list[int],
        weights: list[float],
        counts: list[int],
        positions: list[int],
        lengths: tuple[int | None, int],
        last: bool,
    ) -> None:
        """``add_term_arrays`` for a term of a few postings (one block), as lists: numpy's cost
        per call outweighs its speed there (most terms of a segment have one or two postings)."""
        self._ids = ids
        self._weights = array("f", weights)
        self._maxweight = max(0, *weights)
        self._minlength, self._maxlength = lengths
        deltas = [ids[0]]
        deltas.extend(ids[i] - ids[i - 1] for i in range(1, len(ids)))
        values = pack_ints(counts) + pack_ints(positions)
        self._emit_block(pack_ints(deltas), *pack_weights(self._weights), values, last)

    def _emit_block(self, id_bytes: bytes, weight_mode: int, weight_bytes: bytes, values: bytes, last: bool) -> None:
        if not self._blockcount:
            self._postfile.write(BLOCK_MAGIC)
        self._terminfo.add_block(self)
        ids = self._ids
        header = _HEADER.pack(
            len(ids),
            ids[-1],
            self._maxweight,
            length_to_byte(self._minlength),
            length_to_byte(self._maxlength),
            0,
            weight_mode,
            self._value_mode,
        )
        body = b"".join((header, id_bytes, weight_bytes, values))
        self._postfile.write(_LENGTH.pack(-len(body) if last else len(body)))
        self._postfile.write(body)
        self._blockcount += 1
        self._new_block()

    def _pack_values(self) -> bytes:
        mode = self._value_mode
        values = self._values
        if mode == VALUES_NONE:
            return b""
        if mode == VALUES_RAW:
            return pack_ints([len(v) for v in values]) + b"".join(values)
        codes = [_position_codes(v) for v in values]
        counts = pack_ints([len(c) for c in codes])
        if mode == VALUES_POSITIONS:
            # absolute positions: one frombuffer reads them back, no per-posting running sums
            return counts + pack_ints([p for c in codes for p in accumulate(c)])
        return counts + pack_characters(codes)


class PackedLeafMatcher(W3LeafMatcher):
    """W3's on-disk matcher (block walking, skipping, block quality) over packed blocks."""

    def _read_header(self) -> None:
        magic = self._postfile.get(self._startoffset, 4)
        if magic != BLOCK_MAGIC:
            raise ValueError(f"not a packed postings list (block tag {magic!r})")
        self._baseoffset = self._startoffset + 4

    def _goto(self, position: int) -> None:
        self._data = None
        self._arrays = self._position_cache = None
        self._ids = self._weights = self._values = None
        self._positions = self._starts = None
        self._i = 0
        raw = self._postfile.get(position, _LENGTH.size + _HEADER.size)
        length = _LENGTH.unpack_from(raw)[0]
        if length < 0:
            self._lastblock = True
            length = -length
        self._nextoffset = position + _LENGTH.size + length
        self._dataoffset = position + _LENGTH.size + _HEADER.size
        (
            self._blocklength,
            self._maxid,
            self._maxweight,
            minlength,
            maxlength,
            _,
            self._weight_mode,
            self._value_mode,
        ) = _HEADER.unpack_from(raw, _LENGTH.size)
        self._compression = 0
        self._minlength = byte_to_length(minlength)
        self._maxlength = byte_to_length(maxlength)

    def _block_data(self) -> bytes:
        if self._data is None:
            self._data = self._postfile.get(self._dataoffset, self._nextoffset - self._dataoffset)
        return self._data

    def _ids_weights(self) -> tuple[np.ndarray, np.ndarray, int]:
        if self._arrays is None:
            self._arrays = decode_ids_weights(self._block_data(), self._blocklength, self._weight_mode)
        return self._arrays

    def _position_arrays(self) -> tuple[np.ndarray, ...]:
        if self._position_cache is None:
            offset = self._ids_weights()[2]
            self._position_cache = decode_positions(self._data, offset, self._blocklength, self._value_mode)
        return self._position_cache

    def block_arrays(self, positions: bool = False) -> BlockArrays:
        """The current block as arrays (decoded once per block), with positions if asked for."""
        ids, weights, _ = self._ids_weights()
        if not positions or self._value_mode not in (VALUES_POSITIONS, VALUES_CHARACTERS):
            return BlockArrays(ids, weights)
        return BlockArrays(ids, weights, *self._position_arrays())

    def _read_lists(self) -> None:
        # the posting-by-posting path: Python lists straight from the bytes (see unpack_int_list)
        self._ids, self._weights, self._values_offset = decode_id_weight_lists(
            self._block_data(), self._blocklength, self._weight_mode
        )

    def _read_ids(self) -> None:
        self._read_lists()

    def _read_weights(self) -> None:
        self._read_lists()

    def _read_positions(self) -> None:
        if self._ids is None:
            self._read_lists()
        self._starts, self._positions = decode_position_lists(
            self._data, self._values_offset, self._blocklength, self._value_mode
        )

    def _read_values(self) -> None:
        mode = self._value_mode
        if mode == VALUES_NONE:
            self._values = (None,) * self._blocklength  # as W3 for a zero-size format
        elif mode == VALUES_RAW:
            sizes, offset = unpack_ints(self._block_data(), self._ids_weights()[2], self._blocklength)
            values = []
            for size in sizes.tolist():
                values.append(self._data[offset : offset + size])
                offset += size
            self._values = values
        else:
            count = self._blocklength
            # the value bytes Whoosh's format would have written (merges copy them)
            self._values = [self.format.encode(self._posting_positions(i)) for i in range(count)]

    def _posting_positions(self, i: int) -> list[Any]:
        if self._positions is None:
            self._read_positions()
        return self._positions[self._starts[i] : self._starts[i + 1]]

    def value_as(self, astype: str) -> Any:
        # positions straight from the arrays, not re-encoded into Whoosh's pickled value first
        mode = self._value_mode
        if mode in (VALUES_POSITIONS, VALUES_CHARACTERS) and astype == "frequency":
            return len(self._posting_positions(self._i))  # what both formats' decode_frequency reads
        if mode == VALUES_POSITIONS and astype == "positions":
            return self._posting_positions(self._i)
        if mode == VALUES_CHARACTERS:
            if astype == "characters":
                return self._posting_positions(self._i)
            if astype == "positions":
                return [pos for pos, _, _ in self._posting_positions(self._i)]
        return super().value_as(astype)

    def skip_to(self, targetid: int) -> None:
        # W3's, with a binary search inside the block instead of one next() per posting
        if not self.is_active():
            raise ReadTooFar
        if targetid <= self.id():
            return
        if targetid > self._maxid:
            self._skip_to_block(lambda: targetid > self._maxid)
            if not self.is_active():
                return
        if self._ids is None:
            self._read_ids()
        self._i = bisect_left(self._ids, targetid, self._i)
        if self._i == self._blocklength:  # cannot happen (targetid <= block max), kept for safety
            self._next_block()


class PackedCodec(W3Codec):
    """W3 with packed posting blocks; term vectors (unused here) stay in W3's own format."""

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        if byteids:
            return super().postings_writer(dbfile, byteids=True)
        return PackedPostingsWriter(dbfile, blocklimit=self._blocklimit)

    def postings_reader(
        self, dbfile: Any, terminfo: Any, format_: formats.Format, term: Any = None, scorer: Any = None
    ) -> Matcher:
        if terminfo.is_inlined():  # never written by this codec (see the module docstring)
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return PackedLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


class PackedFileIndex(FileIndex):
    """A Whoosh file index whose writers (single- and multi-process) use ``PackedCodec``.

    Readers need nothing: each segment remembers the codec that wrote it.
    """

    def writer(self, procs: int = 1, **kwargs: Any) -> Any:
        kwargs.setdefault("codec", PackedCodec())  # MpWriter hands its kwargs on to the sub-writers
        if procs > 1:
            return super().writer(procs=procs, **kwargs)
        return BulkSegmentWriter(self, **kwargs)  # Whoosh's writer with array postings


def create_index(directory: str, schema: Any, indexname: str) -> PackedFileIndex:
    storage = FileStorage(directory)
    return PackedFileIndex.create(storage, schema, indexname)


def open_index(storage: FileStorage, indexname: str) -> PackedFileIndex:
    return PackedFileIndex(storage, indexname=indexname)


def foreign_segments(ix: FileIndex) -> list[str]:
    """Ids of the segments in ``ix`` not written by this codec (e.g. by Whoosh's stock W3)."""
    toc = TOC.read(ix.storage, ix.indexname)
    return [segment.segment_id() for segment in toc.segments if type(segment.codec()) is not PackedCodec]


def is_packed(segment_reader: Any) -> bool:
    """Whether one segment's postings were written by this codec (so ``postings_arrays`` reads them)."""
    return type(segment_reader.segment().codec()) is PackedCodec


def block_arrays(matcher: Matcher, positions: bool = False) -> BlockArrays:
    """The current block of a term matcher as arrays (ids are this segment's document numbers),
    with its positions if asked for.

    ``matcher`` is what ``reader.postings(field, term)`` returns for a segment: our leaf matcher,
    or Whoosh's wrapper that hides deleted documents (the arrays then still include them; drop
    them with the segment's deletions).
    """
    while isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    if not isinstance(matcher, PackedLeafMatcher):
        raise TypeError(f"{type(matcher).__name__} is not a packed postings matcher")
    return matcher.block_arrays(positions)


def postings_arrays(reader: Any, fieldname: str, text: str | bytes, positions: bool = False) -> BlockArrays:
    """Every live posting of one term across the segments of ``reader``, as one set of arrays
    (ids are the reader's document numbers; deleted documents are left out). Given one segment's
    reader (from ``reader.leaf_readers()``), the ids are that segment's document numbers, as its
    per-segment columns count them."""
    mode = _value_mode(reader.schema[fieldname].format)
    positions = positions and mode in (VALUES_POSITIONS, VALUES_CHARACTERS)
    with_chars = positions and mode == VALUES_CHARACTERS
    segments: list[BlockArrays] = []
    for segment_reader, docbase in reader.leaf_readers():
        try:
            matcher = segment_reader.postings(fieldname, text)
        except TermNotFound:
            continue
        leaf = matcher.child if isinstance(matcher, FilterMatcher) else matcher
        arrays = None if with_chars else decode_term(_term_data(leaf), positions)  # whole term at once
        if arrays is None:
            arrays = concatenate(list(_term_blocks(leaf, positions)), positions, with_chars)
        if segment_reader.has_deletions():
            arrays = without(arrays, np.fromiter(segment_reader.segment().deleted_docs(), dtype=np.int64))
        segments.append(replace(arrays, ids=arrays.ids + docbase) if docbase else arrays)
    return concatenate(segments, positions, with_chars)


def segment_postings_arrays(segment_reader: Any, fieldname: str, text: bytes, positions: bool = False) -> BlockArrays:
    """``postings_arrays`` of one segment's reader (segment-local ids, deleted documents left out)
    for a term already in bytes, with one lookup of the term and no matcher: a search's first use
    of a word pays this once per segment."""
    if segment_reader.is_closed:
        raise ReaderClosed
    mode = _value_mode(segment_reader.schema[fieldname].format)
    if positions and mode == VALUES_CHARACTERS:
        return postings_arrays(segment_reader, fieldname, text, positions)
    positions = positions and mode == VALUES_POSITIONS
    terms = segment_reader._terms
    try:
        terminfo = terms.term_info(fieldname, text)
    except TermNotFound:
        return concatenate([], positions, False)
    offset, length = terminfo.extent()
    if terminfo.is_inlined():  # never written by this codec
        return postings_arrays(segment_reader, fieldname, text, positions)
    if isinstance(length, tuple):  # as in _term_data
        (length,) = length
    data = terms._postfile.get(offset, length)
    if data[:4] != BLOCK_MAGIC:
        raise ValueError(f"not a packed postings list (block tag {data[:4]!r})")
    arrays = decode_term(data, positions)
    if not segment_reader.has_deletions():
        return arrays
    deleted = np.zeros(segment_reader.doc_count_all() + 1, dtype=bool)
    deleted[np.fromiter(segment_reader.segment().deleted_docs(), dtype=np.int64)] = True
    return kept(arrays, ~deleted[arrays.ids])


def _term_data(matcher: PackedLeafMatcher) -> bytes:
    """The matcher's term's whole postings list, in one read."""
    extent = matcher._length
    if isinstance(extent, tuple):  # W3TermInfo.from_bytes keeps the length as unpack_int's 1-tuple
        (extent,) = extent
    return matcher._postfile.get(matcher._startoffset, extent)


def _term_blocks(matcher: PackedLeafMatcher, positions: bool) -> Iterator[BlockArrays]:
    """Every block of the matcher's term, from one read of its whole postings list."""
    data = _term_data(matcher)
    offset = 4  # past BLOCK_MAGIC, checked by the matcher
    while offset < len(data):
        length = _LENGTH.unpack_from(data, offset)[0]
        count, _, _, _, _, _, weight_mode, value_mode = _HEADER.unpack_from(data, offset + _LENGTH.size)
        ids, weights, values = decode_ids_weights(data, count, weight_mode, offset + _LENGTH.size + _HEADER.size)
        if positions:
            yield BlockArrays(ids, weights, *decode_positions(data, values, count, value_mode))
        else:
            yield BlockArrays(ids, weights)
        if length < 0:
            break
        offset += _LENGTH.size + length


def positions_in(reader: Any, fieldname: str, text: str | bytes, docs: list[int]) -> dict[int, list[int]] | None:
    """``{doc: positions of the term}`` for the ``docs`` (ascending, the reader's numbers, live)
    that have it, decoding only the blocks that hold one of them, from one read of the term's
    postings per segment (a matcher's ``skip_to`` reads each block header in between from the
    file). None when a segment is not of this codec."""
    found: dict[int, list[int]] = {}
    for segment_reader, docbase in reader.leaf_readers():
        end = docbase + segment_reader.doc_count_all()
        wanted = [doc - docbase for doc in docs if docbase <= doc < end]
        if not wanted:
            continue
        if not is_packed(segment_reader):
            return None
        if fieldname not in segment_reader.schema:
            continue
        terms = segment_reader._terms
        try:
            terminfo = terms.term_info(fieldname, segment_reader._text_to_bytes(fieldname, text))
        except TermNotFound:
            continue
        start, extent = terminfo.extent()
        if isinstance(extent, tuple):  # as in _term_data
            (extent,) = extent
        for doc, positions in positions_of(terms._postfile.get(start, extent), wanted).items():
            found[doc + docbase] = positions
    return found
