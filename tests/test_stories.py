"""Copies of one release grouped into stories at index time: across script, chrome and
truncation, never two different releases, and incrementally (a new copy joins on reindex)."""

from __future__ import annotations

from pathlib import Path

import opencc

from search.index import current_generation, open_index
from search.stories import FILE_NAME, StoryBook
from search.sync import sync

ORIGINAL = """石泉县公安局集中返还被盗被骗财物

3月5日上午，石泉县公安局在县城广场举行涉案财物集中返还仪式，向42名群众发还被盗被骗现金、手机、电动车等财物共计100余万元。
今年以来，该局紧盯群众身边的盗窃、诈骗案件，组织专班全力追赃挽损，先后破获盗窃案件63起、电信网络诈骗案件21起，抓获犯罪嫌疑人48名。
活动现场，民警逐一核对失主身份，将一件件失而复得的财物交到群众手中。领回被骗12万元积蓄的王大爷激动地说：“没想到钱还能追回来，感谢人民警察！”
该局负责人表示，将持续保持对侵财犯罪的高压严打态势，最大限度为群众挽回损失，同时提醒广大群众提高防范意识，守护好自己的钱袋子。
"""
UNRELATED_SAME_TOPIC = """某市公安局召开打击盗窃诈骗犯罪新闻发布会

6月18日，某市公安局召开新闻发布会，通报上半年全市打击盗窃、诈骗犯罪工作情况。
上半年，全市共立盗窃案件1320起，同比下降15%；电信网络诈骗案件发案数同比下降22%，为群众挽回经济损失3800余万元。
发布会上，市局刑侦支队负责人介绍了几类常见诈骗手法，提醒群众不轻信陌生来电，不向陌生账户转账。
下一步，全市公安机关将深化打防管控，持续压降侵财类案件发案。
"""


def _traditional(text: str) -> str:
    return opencc.OpenCC("s2t").convert(text)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _stories(index_dir: Path) -> dict[str, str]:
    return StoryBook.load(current_generation(index_dir)).stories()


def _ids(index_dir: Path) -> dict[str, str]:
    """File name → release id, as the index has them."""
    with open_index(index_dir).searcher() as searcher:
        return {Path(stored["path"]).name: stored["id"] for stored in searcher.documents()}


def test_copies_across_script_chrome_and_truncation_share_a_story_and_other_releases_do_not(tmp_path: Path) -> None:
    source = tmp_path / "source"
    original = _write(source, "original.txt", ORIGINAL)
    mirror = _write(
        source,
        "mirror.txt",
        "手機版 | 網站導航\n當前位置：首頁 > 法治 > 正文\n" + _traditional(ORIGINAL) + "\n責任編輯：張三\n相關新聞\n",
    )
    lines = ORIGINAL.splitlines()
    truncated = _write(source, "repost.txt", "石泉警方为群众追回百万财物\n\n" + "\n".join(lines[2:4])[:120])
    other = _write(source, "other.txt", UNRELATED_SAME_TOPIC)
    sync(tmp_path / "index", [source])
    story = _stories(tmp_path / "index")
    ids = _ids(tmp_path / "index")
    assert set(ids) == {path.name for path in (original, mirror, truncated, other)}
    assert story[ids["original.txt"]] == story[ids["mirror.txt"]] == story[ids["repost.txt"]]
    assert story[ids["other.txt"]] != story[ids["original.txt"]]


def test_a_copy_added_later_joins_the_story_under_its_existing_id_and_a_removed_one_leaves(tmp_path: Path) -> None:
    source = tmp_path / "source"
    original = _write(source, "original.txt", ORIGINAL)
    _write(source, "other.txt", UNRELATED_SAME_TOPIC)
    sync(tmp_path / "index", [source])
    before = _stories(tmp_path / "index")
    original_id = _ids(tmp_path / "index")[original.name]
    assert before[original_id] == original_id

    later = _write(source, "later.txt", "来源：某某新闻网\n" + _traditional(ORIGINAL))
    report = sync(tmp_path / "index", [source])
    assert report.added == 1 and report.unchanged == 2
    later_id = _ids(tmp_path / "index")[later.name]
    assert _stories(tmp_path / "index")[later_id] == original_id

    later.unlink()
    sync(tmp_path / "index", [source])
    assert later_id not in _stories(tmp_path / "index")
    assert _stories(tmp_path / "index")[original_id] == original_id


def test_a_lost_story_book_is_rebuilt_from_the_index_on_the_next_sync(tmp_path: Path) -> None:
    source = tmp_path / "source"
    original = _write(source, "original.txt", ORIGINAL)
    mirror = _write(source, "mirror.txt", "來源：某某網\n" + _traditional(ORIGINAL))
    sync(tmp_path / "index", [source])
    (current_generation(tmp_path / "index") / FILE_NAME).write_bytes(b"not a pickle")
    _write(source, "other.txt", UNRELATED_SAME_TOPIC)
    sync(tmp_path / "index", [source])
    story, ids = _stories(tmp_path / "index"), _ids(tmp_path / "index")
    assert len(story) == 3
    assert story[ids[original.name]] == story[ids[mirror.name]]


def test_copies_are_described_once_per_commit_not_once_per_hit() -> None:
    from search.collapse import Stories, describe_copies

    class CountingSearcher:
        reads = 0

        def stored_fields(self, doc: int) -> dict:
            CountingSearcher.reads += 1
            return {"id": f"r{doc}", "title": f"t{doc}", "source": "s", "date": f"2024-01-0{doc + 1}"}

    stories = Stories([0, 0, 0], ["a"], [10, 10, 10], {0: [0, 1, 2]}, bytearray(b"\x01\x01\x01"))
    searcher = CountingSearcher()
    first = describe_copies(searcher, stories, 0)
    assert [copy["id"] for copy in first] == ["r1", "r2"]
    first[0]["title"] = "changed by a caller"
    assert [copy["id"] for copy in describe_copies(searcher, stories, 1)] == ["r0", "r2"]
    assert describe_copies(searcher, stories, 0)[0]["title"] == "t1"
    assert CountingSearcher.reads == 3  # r1, r2, then r0: each copy read once


def test_signatures_left_by_a_sync_that_died_are_removed_by_the_next_save(tmp_path: Path) -> None:
    source = tmp_path / "source"
    _write(source, "original.txt", ORIGINAL)
    sync(tmp_path / "index", [source])
    generation = current_generation(tmp_path / "index")
    (generation / ".abc.signing.tmp").write_bytes(b"\0" * 1024)
    (generation / "stories-dead.signatures").write_bytes(b"\0" * 1024)
    _write(source, "other.txt", UNRELATED_SAME_TOPIC)
    sync(tmp_path / "index", [source])
    names = sorted(path.name for path in generation.iterdir() if "signatures" in path.name or "signing" in path.name)
    assert len(names) == 1 and names[0] != "stories-dead.signatures"
    assert len(_stories(tmp_path / "index")) == 2
