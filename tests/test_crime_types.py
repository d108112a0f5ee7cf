"""Crime types from the editable vocabulary: by where words stand and how often, not one mention."""

from __future__ import annotations

import pytest

from search.crime_types import CRIME_TYPES, CrimeTypeFileError, classify, parse_vocabulary, vocabulary


def test_the_headline_names_the_type_in_either_script() -> None:
    assert classify("某县警方破获一起电信诈骗案", ["民警接到报警后迅速开展工作。"]) == ["诈骗"]
    assert classify("某縣警方破獲電信詐騙案", ["民警接獲報案後迅速展開偵辦。"]) == ["诈骗"]


def test_a_type_spoken_of_throughout_the_body_counts_without_the_headline() -> None:
    body = [
        "近日，某派出所民警接到群众报警称其电动车被盗。",
        "民警调取监控，锁定盗窃嫌疑人。",
        "嫌疑人对盗窃电动车的事实供认不讳。",
    ]
    assert classify("民警三小时找回群众爱车", body) == ["盗窃"]


def test_a_campaign_summary_mentioning_crimes_in_passing_gets_none_of_them() -> None:
    body = [
        "今年以来，全市公安机关坚持以人民为中心，全力维护社会治安稳定，群众安全感持续提升。" * 3,
        "全年共破获各类刑事案件1200余起，其中盗窃案件、诈骗案件、毒品案件、赌博案件均有下降。",
        "下一步，全市公安机关将继续深化平安建设，推动社会治理现代化。",
    ]
    assert classify("市公安局召开年度工作总结会", body) == []


def test_look_alike_words_are_not_the_type() -> None:
    body = ["执法人员查获一批盗版光盘，当事人已被依法处理。", "盗版光盘共计300余张。", "盗版出版物危害大。"]
    assert "盗窃" not in classify("查获盗版光盘300余张", body)
    assert "交通" not in classify("警方查获两名逃逸移工", ["两名逃逸移工在工地被查获。"])


def test_every_type_of_the_vocabulary_file_is_a_known_type_and_has_words() -> None:
    vocab = vocabulary()
    assert set(vocab.words) == set(CRIME_TYPES)
    assert all(vocab.words[kind] for kind in CRIME_TYPES)


@pytest.mark.parametrize("line", ["抢钱: 抢劫", "诈骗 诈骗, 骗取"])
def test_a_malformed_vocabulary_line_is_refused_with_its_line_number(line: str) -> None:
    with pytest.raises(CrimeTypeFileError, match=":2:"):
        parse_vocabulary("# comment\n" + line)
