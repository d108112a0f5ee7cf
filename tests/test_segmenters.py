"""rjieba (jieba-rs) and the jieba package give identical tokens with our dictionaries, and the
bulk-indexing fast path gives exactly the analyser's terms and positions."""

from collections import defaultdict

import pytest

from search import gazetteer
from search.analysis import (
    ChineseAnalyzer,
    PythonJieba,
    RustJieba,
    _read_lines,
    index_terms,
    split_word_runs,
)
from search.clean import clean
from search.load import load
from search.normalise import fold
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def both_segmenters():
    return RustJieba(), PythonJieba()


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
def test_rjieba_and_jieba_segment_the_samples_identically(both_segmenters, seed):
    rust, python = both_segmenters
    text = fold(seed.read_text(encoding="utf-8")).text
    rust_tokens = list(split_word_runs(rust.tokenize(text)))
    python_tokens = list(split_word_runs(python.tokenize(text)))
    assert rust_tokens == python_tokens
    assert len(rust_tokens) > 500


@pytest.mark.parametrize("seed", SEEDS[:3], ids=lambda p: p.name[:3])
def test_cut_gives_the_words_of_tokenize_in_both_segmenters(both_segmenters, seed):
    text = fold(seed.read_text(encoding="utf-8")).text + " 2018-12-26 18.08% ABC电信诈骗案\n\n台北市警察局"
    for segmenter in both_segmenters:
        assert segmenter.cut(text) == [word for word, _, _ in segmenter.tokenize(text)]


def test_dictionary_lookups_agree(both_segmenters):
    rust, python = both_segmenters
    for word in ("套路贷", "九龙坡区", "电信诈骗", "诈骗", "九龙", "坡区", "万州", "嫌疑", "不是词语啊"):
        assert rust.has_word(word) == python.has_word(word), word


def analyser_postings(text):
    postings = defaultdict(list)
    for token in ChineseAnalyzer()(text, positions=True):
        postings[token.text].append(token.pos)
    return dict(postings)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
def test_fast_path_equals_the_analyser(seed):
    document = clean(load(seed))
    for text in (document.body, document.headline or "", "的的犯罪嫌疑人被抓获。ＡＰＰ 2018-12-26 萬州區"):
        assert index_terms(text) == analyser_postings(text)


def test_place_name_dictionary_is_up_to_date():
    listed = {line.split()[0] for line in _read_lines("placenames.txt")}
    expected = {name for name in gazetteer.load().names() if len(name) >= 2}
    assert listed == expected, "run scripts/build-dictionaries after changing the gazetteer"
