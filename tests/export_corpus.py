"""An index for the download and feed tests: the seeds, 60 synthetic releases (more than a page,
more than a feed) and a release whose text carries markup and characters XML forbids."""

from __future__ import annotations

import shutil
from pathlib import Path

from search.sync import sync
from tests.conftest import MARKUP_RELEASE, SEEDS
from tests.synthetic import write_releases

SYNTHETIC = 60
# control characters a badly converted page may carry (XML 1.0 allows none of them)
CONTROL_RELEASE = """某区公安分局通报一起\x01盗窃案件

发布时间:2026-02-03 | 来源:平安某区

2月1日,某区公安分局接到报警\x1f称车辆被盗,民警\x08迅速破案,追回被盗车辆。
"""


def build_export_index(root: Path) -> Path:
    """Sources under ``root``/releases, the index in ``root``/index (returned)."""
    corpus = root / "releases"
    corpus.mkdir(parents=True)
    for seed in SEEDS:
        shutil.copy(seed, corpus / seed.name)
    write_releases(corpus / "synthetic", SYNTHETIC, seed=3)
    (corpus / "markup.txt").write_text(MARKUP_RELEASE, encoding="utf-8")
    (corpus / "control.txt").write_text(CONTROL_RELEASE, encoding="utf-8")
    report = sync(root / "index", [corpus])
    assert report.added == len(SEEDS) + SYNTHETIC + 2, report.skipped
    return root / "index"
