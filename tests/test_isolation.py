"""Every stage isolates every release: junk as pages carry it — site chrome, markup fragments,
anti-scraping strings, mojibake, machine-conversion glosses — at the head, middle or tail of real
releases never makes a stage raise, and a batch holding such pages indexes all of them."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.analysis import gram_terms, index_terms
from search.clean import clean
from search.extract import extract
from search.load import LoadError, load_bytes
from search.query import SearchEngine
from search.sync import sync
from search.sync_writing import release_fields
from tests.conftest import REPO, SEEDS

FIXTURES = sorted((REPO / "tests" / "fixtures" / "releases").glob("*.txt"))
RELEASES = [path.read_text(encoding="utf-8") for path in [*SEEDS, *FIXTURES]]


def _mojibake(text: str) -> str:
    """UTF-8 bytes read as another encoding, the way a mis-declared page shows them."""
    return text.encode("utf-8").decode("latin-1")


# Shapes of junk seen on real pages (written here, not copied from any page).
JUNK_LINES = [
    "|",
    "![]() |",
    '9 M2 z! E5 X"',
    "手機版 | 網站導航",
    "APP下载 关注我们",
    "当前版: 11版 上一版 下一版",
    "第A08版:社会与法·警方时空 PDF版",
    "本篇文章375字,读完约1分钟",
    " date 2026-01-27 聽新聞",
    "首页 > 新闻中心 > 警方动态 > 正文",
    "</p></div><p class='x'>",
    "<script>var a = '2020-01-01';</script>",
    "现(xiàn)场(chǎng)民(mín)警(jǐng)",
    "中國(guó)日?qǐng)?bào)網(wǎng) 2023-02-28 18:39",
    "2021月06月15日",
    "99.99.9999 25:61",
    "民國999年13月45日",
    "责任编辑:",
    "来源: | 作者: | 时间:",
    "(记者 )",
    "0" * 400,
    "\u200b\u200b\ufeff",
    "公安 平安 和平 新华 河北 海南 城区",
    "我市 全市 本市",
    "图为",
    "（图）",
    "1月30日訊",
    "今114年",
    _mojibake("九龙坡区公安分局发布警情通报"),
]
JUNK = st.one_of(
    st.sampled_from(JUNK_LINES),
    st.text(max_size=80),
    st.builds(_mojibake, st.text(max_size=40)),
)


def _with_junk(release: str, junk: list[str], where: list[int]) -> str:
    lines = release.splitlines()
    for line, fraction in zip(junk, where, strict=False):
        lines.insert(fraction * len(lines) // 100, line)
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    release=st.sampled_from(RELEASES),
    junk=st.lists(JUNK, min_size=1, max_size=6),
    where=st.lists(st.sampled_from([0, 0, 1, 50, 99, 100, 100]), min_size=6, max_size=6),
    suffix=st.sampled_from([".txt", ".html"]),
)
def test_no_stage_raises_on_junk_anywhere_in_a_real_release(
    release: str, junk: list[str], where: list[int], suffix: str
) -> None:
    text = _with_junk(release, junk, where)
    try:
        raw = load_bytes(Path("junk" + suffix), text.encode("utf-8", "surrogatepass"))
    except LoadError as error:
        assert str(error)
        return
    cleaned = clean(raw)
    document = extract(cleaned)
    assert document.title.strip()
    fields = release_fields(document)
    index_terms(fields["title"])
    index_terms(fields["body"])
    gram_terms(fields["grams"])


def test_a_batch_of_pages_with_junk_heads_and_tails_indexes_every_release(tmp_path: Path) -> None:
    """Each real release with junk lines before, inside and after it, plus pages that are junk
    only: every one is indexed (or skipped with a reason), and every real release is found."""
    source = tmp_path / "source"
    source.mkdir()
    rng = random.Random(12)
    for number, release in enumerate(RELEASES):
        junk = rng.sample(JUNK_LINES, 4)
        text = _with_junk(release, junk, [0, 0, 50, 100])
        (source / f"{number:03d}.txt").write_text(text, encoding="utf-8", errors="surrogatepass")
    for number, line in enumerate(JUNK_LINES):
        (source / f"junk_{number:03d}.txt").write_text(line + "\n", encoding="utf-8")
    shutil.copy(SEEDS[0], source / "seed.html")  # a .txt release saved with an HTML name

    report = sync(tmp_path / "index", [source])

    offered = len(RELEASES) + len(JUNK_LINES) + 1
    assert report.added + len(report.skipped) == offered
    skipped = {Path(item.path).name: item.reason for item in report.skipped}
    assert not any(name[:3].isdigit() for name in skipped), skipped  # no real release lost
    assert all(reason for reason in skipped.values())
    engine = SearchEngine(tmp_path / "index")
    try:
        assert engine.stats()["documents"] == report.added
        assert engine.search("九龙坡").total >= 1
    finally:
        engine.close()
    again = sync(tmp_path / "index", [source])
    assert not again.changed and again.unchanged == report.added


def test_a_release_that_fails_in_any_stage_is_skipped_with_the_stage_named(tmp_path: Path, monkeypatch) -> None:
    """Whatever stage trips over one release (a bug not yet found), the batch goes on."""
    import search.sync_writing as sync_module  # where releases are extracted

    source = tmp_path / "source"
    source.mkdir()
    for seed in SEEDS:
        shutil.copy(seed, source / seed.name)
    victim = SEEDS[2].name
    real_extract = sync_module.extract

    def failing_extract(cleaned):
        if cleaned.raw.path.name == victim:
            raise RuntimeError("a bug in one rule")
        return real_extract(cleaned)

    monkeypatch.setattr(sync_module, "extract", failing_extract)
    report = sync(tmp_path / "index", [source])
    assert report.added == len(SEEDS) - 1
    [skipped] = report.skipped
    assert Path(skipped.path).name == victim
    assert "extract stage" in skipped.reason and "a bug in one rule" in skipped.reason
