"""Shared fixtures: the bundled samples and real Whoosh indexes built from them in temp dirs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from search.query import SearchEngine
from search.sync import sync

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"

SEED_000 = SAMPLES / "000_077349ee10b9c296.txt"
SEED_001 = SAMPLES / "001_d810a3ff06be91ca.txt"
SEED_002 = SAMPLES / "002_32d54b25d0c10b49.txt"
SEED_003 = SAMPLES / "003_ee03adda955840a3.txt"
SEED_004 = SAMPLES / "004_2d3a257640d335f2.txt"
SEEDS = [SEED_000, SEED_001, SEED_002, SEED_003, SEED_004]

# A release that says 电信诈骗 but never 诈骗 on its own, and one carrying markup in its text.
TELECOM_ONLY = """某县公安局破获一起电信诈骗案

发布时间:2024-03-05 09:00 | 来源:平安某县

3月1日,某县公安局接到报警,一名群众称遭遇电信诈骗,民警迅速追回损失。
"""
MARKUP_RELEASE = """警方提醒 <script>alert(1)</script> 注意防范

发布时间:2023-07-08 | 来源:测试网

民警发现网页中出现<script>alert("x")</script>与<img src=x onerror=alert(2)>代码,提醒群众注意防范诈骗。
"""


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the five seed releases, built once per test session."""
    index_dir = tmp_path_factory.mktemp("sample-index")
    report = sync(index_dir, [SAMPLES])
    assert report.added == len(SEEDS) and not report.skipped
    return index_dir


@pytest.fixture(scope="session")
def engine(sample_index: Path) -> SearchEngine:
    engine = SearchEngine(sample_index)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def extended_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds plus hand-written releases that exercise markup and word boundaries."""
    folder = tmp_path_factory.mktemp("corpus")
    for seed in SEEDS:
        shutil.copy(seed, folder / seed.name)
    (folder / "telecom_only.txt").write_text(TELECOM_ONLY, encoding="utf-8")
    (folder / "markup.txt").write_text(MARKUP_RELEASE, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def extended_engine(extended_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    index_dir = tmp_path_factory.mktemp("extended-index")
    report = sync(index_dir, [extended_corpus])
    assert report.added == len(SEEDS) + 2, report.skipped
    engine = SearchEngine(index_dir)
    yield engine
    engine.close()
