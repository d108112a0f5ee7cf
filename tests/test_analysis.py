"""Analysis: jieba tokens with folded script, original offsets and phrase-safe positions."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.analysis import ChineseAnalyzer, parts_of, query_words
from search.normalise import fold


def tokens(text, **kwargs):
    stream = ChineseAnalyzer()(text, positions=True, chars=True, **kwargs)
    return [(t.text, t.pos, t.startchar, t.endchar) for t in stream]


def texts(text, **kwargs):
    return [t[0] for t in tokens(text, **kwargs)]


def test_police_terms_stay_whole():
    assert "套路贷" in texts("石桥铺套路贷公司被警察一锅端")
    assert [w.text for w in query_words("套路贷")] == ["套路贷"]
    for term in ("扫黑除恶", "命案积案", "交巡警", "辅警", "群租房", "电诈"):
        assert term in texts(f"开展{term}工作")


def test_district_names_stay_whole():
    assert "九龙坡区" in texts("九龙坡区公安分局")
    assert "郾城" in texts("郾城分局开展巡逻")


def test_search_mode_subwords_are_indexed():
    assert {"电信诈骗", "电信", "诈骗"} <= set(texts("实施电信诈骗犯罪"))


def test_traditional_is_folded_but_offsets_point_into_original():
    text = "萬州區公安局破獲詐騙案"
    found = tokens(text)
    assert ("万州区", 0, 0, 3) in found
    for term, _, start, end in found:
        assert term in fold(text[start:end]).text


def test_full_width_and_case_are_folded():
    assert "app" in texts("警企ｅ通ＡＰＰ上线")
    assert "2024" in texts("２０２４年")


def test_punctuation_and_stop_words_dropped_positions_compacted():
    found = tokens("犯罪嫌疑人被抓获。")
    assert all(term not in ("被", "。") for term, *_ in found)
    positions = sorted({pos for _, pos, *_ in found})
    assert positions == list(range(len(positions)))


def test_phrase_positions_are_consecutive_parts_with_stacked_words():
    found = tokens("电信诈骗")
    assert ("电信", 0, 0, 2) in found and ("诈骗", 1, 2, 4) in found
    assert ("电信诈骗", 0, 0, 4) in found
    query = tokens("电信诈骗", mode="query")
    assert [(t, p) for t, p, *_ in query] == [("电信", 0), ("诈骗", 1)]


def test_parts_are_at_most_two_characters_and_rebuild_the_word():
    for word in ("犯罪嫌疑人", "中华人民共和国", "九龙坡区", "套路贷"):
        parts = parts_of(word)
        assert "".join(parts) == word
        assert all(len(part) <= 2 for part in parts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("萬州区公安局电信诈骗ＡＢab12，。 \n㎡①犯罪嫌疑人")), max_size=60))
def test_offsets_always_slice_the_original_text(text):
    previous_position = -1
    for term, pos, start, end in tokens(text):
        assert 0 <= start < end <= len(text)
        assert term in fold(text[start:end]).text
        assert pos >= previous_position
        previous_position = pos


def test_bigrams_cover_every_run_of_ideographs_without_crossing_punctuation():
    from search.analysis import gram_terms

    assert gram_terms("杜荣良驾驶,萬州區2025年") == {
        "杜荣": [0], "荣良": [1], "良驾": [2], "驾驶": [3], "万州": [5], "州区": [6],
    }  # fmt: skip


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(alphabet=st.sampled_from("杜荣良萬州區伪基站 ,。a1「」\u3400\uf900"), max_size=40))
def test_bigram_tokenizer_equals_the_indexing_fast_path(text):
    from search.analysis import BigramAnalyzer, gram_terms

    postings: dict[str, list[int]] = {}
    for token in BigramAnalyzer()(text, positions=True, chars=True):
        postings.setdefault(token.text, []).append(token.pos)
        assert fold(text[token.startchar : token.endchar]).text == token.text
    assert postings == gram_terms(text)
