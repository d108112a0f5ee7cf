"""MinHash signatures of many releases on disk, read a column or a block of rows at a time.

A signature is 256 uint32 values (1 KB). Kept in memory for 200,000 releases they would take
200 MB, so the story book keeps them in a file and the copy search (``search.story_bands``) reads
what one step needs: one band (two columns) of every release, or a block of whole signatures.
The file is a run of *tiles* of ``TILE`` releases, each tile stored column by column (the last
tile may be short), so both a column and a block of rows are a few large reads. Reads go through
``os.pread`` into fresh arrays, not ``mmap``: mapped pages would count in the process's resident
memory for as long as the mapping lives.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

WIDTH = 256
TILE = 4096
_BYTES = 4


class TileWriter:
    """Appends signatures (rows) to a new tiled file; ``close`` writes the last, short tile."""

    def __init__(self, path: Path):
        self.path = path
        self._out = open(path, "wb")  # noqa: SIM115 (closed by close/abort)
        self._buffer = np.empty((TILE, WIDTH), dtype=np.uint32)
        self._filled = 0
        self.rows = 0

    def append(self, signatures: np.ndarray) -> None:
        """Rows of 256 values each (any unsigned dtype holding 32-bit values)."""
        signatures = np.asarray(signatures).reshape(-1, WIDTH)
        start = 0
        while start < len(signatures):
            take = min(TILE - self._filled, len(signatures) - start)
            self._buffer[self._filled : self._filled + take] = signatures[start : start + take]
            self._filled += take
            start += take
            if self._filled == TILE:
                self._flush()

    def _flush(self) -> None:
        if self._filled:
            self._out.write(np.ascontiguousarray(self._buffer[: self._filled].T).tobytes())
            self.rows += self._filled
            self._filled = 0

    def close(self) -> SignatureFile:
        self._flush()
        self._out.close()
        return SignatureFile(self.path, self.rows)

    def abort(self) -> None:
        self._out.close()
        self.path.unlink(missing_ok=True)


class SignatureFile:
    """A tiled file of ``rows`` signatures."""

    def __init__(self, path: Path, rows: int):
        self.path = path
        self.rows = rows

    @staticmethod
    def expected_bytes(rows: int) -> int:
        return rows * WIDTH * _BYTES

    def _tiles(self, first: int, stop: int) -> Iterator[tuple[int, int, int]]:
        """(tile start row, tile length, file offset) of the tiles holding rows first..stop-1."""
        for start in range(first - first % TILE, stop, TILE):
            yield start, min(TILE, self.rows - start), start * WIDTH * _BYTES

    def _read(self, handle: int, offset: int, count: int) -> np.ndarray:
        data = os.pread(handle, count * _BYTES, offset)
        if len(data) != count * _BYTES:
            raise OSError(f"{self.path}: short read (truncated signature file)")
        return np.frombuffer(data, dtype=np.uint32)

    def columns(self, first: int, count: int, rows: slice | None = None) -> np.ndarray:
        """``(count, n)`` values of columns first..first+count-1 of rows ``rows`` (all by default)."""
        start_row, stop_row = (0, self.rows) if rows is None else (rows.start, rows.stop)
        out = np.empty((count, stop_row - start_row), dtype=np.uint32)
        handle = os.open(self.path, os.O_RDONLY)
        try:
            for tile_start, length, offset in self._tiles(start_row, stop_row):
                values = self._read(handle, offset + first * length * _BYTES, count * length).reshape(count, length)
                low, high = max(start_row, tile_start), min(stop_row, tile_start + length)
                out[:, low - start_row : high - start_row] = values[:, low - tile_start : high - tile_start]
        finally:
            os.close(handle)
        return out

    def block(self, rows: slice) -> np.ndarray:
        """``(256, n)`` values of rows ``rows``, column by column."""
        return self.columns(0, WIDTH, rows)

    def iter_rows(self) -> Iterator[np.ndarray]:
        """Every signature, a tile at a time, as ``(n, 256)`` rows."""
        for start in range(0, self.rows, TILE):
            yield self.block(slice(start, min(self.rows, start + TILE))).T

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """``(len(rows), 256)`` signatures of the given rows (read a tile at a time)."""
        out = np.empty((len(rows), WIDTH), dtype=np.uint32)
        rows = np.asarray(rows, dtype=np.int64)
        tiles = rows // TILE
        for tile in np.unique(tiles):
            chosen = np.nonzero(tiles == tile)[0]
            start = int(tile) * TILE
            block = self.block(slice(start, min(self.rows, start + TILE)))
            out[chosen] = block[:, rows[chosen] - start].T
        return out
