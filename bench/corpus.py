"""A deterministic synthetic corpus of releases built from the sentences of ``samples/``.

Each release has a headline naming a district, a header line with a date (2015–2026) and a source,
and ~6.7 KB of body sentences drawn from the real seeds; one in twenty is in Traditional script.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import opencc

from search import gazetteer

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TARGET_BYTES = 6_700
SOURCES = ["中国网", "重庆法制报", "平安中国", "人民公安报", "澎湃新闻", "长安网"]
HEADLINES = ["{d}公安分局通报近期工作", "{d}警方破获一批案件", "{d}开展平安建设专项行动", "{d}公安机关工作纪实",
             "{d}警方提醒防范电信诈骗", "{d}持续推进扫黑除恶"]  # fmt: skip


def sentences() -> list[str]:
    found = []
    for sample in sorted(SAMPLES.glob("*.txt")):
        for sentence in re.split(r"(?<=[。！？])", sample.read_text(encoding="utf-8")):
            sentence = sentence.strip()
            if 12 <= len(sentence) <= 240 and "\n" not in sentence and "发布" not in sentence:
                found.append(sentence)
    return found


def build(folder: Path, count: int, seed: int = 20261125) -> list[Path]:
    """Write ``count`` releases into ``folder`` (unchanged files are left alone)."""
    rng = random.Random(seed)
    pool = sentences()
    regions = [region for region in gazetteer.load().regions if region.district]
    to_traditional = opencc.OpenCC("s2t")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        region = rng.choice(regions)
        district = region.district
        year, month, day = rng.randint(2015, 2026), rng.randint(1, 12), rng.randint(1, 28)
        lines = [
            rng.choice(HEADLINES).format(d=district),
            f"发布时间:{year}-{month:02d}-{day:02d} 09:{rng.randint(0, 59):02d} | 来源:{rng.choice(SOURCES)}",
            f"{month}月{day}日,{region.city or region.province}{district}公安分局召开工作会议。" + rng.choice(pool),
        ]
        size = sum(len(line.encode()) for line in lines)
        paragraph: list[str] = []
        while size < TARGET_BYTES:
            sentence = rng.choice(pool)
            paragraph.append(sentence)
            size += len(sentence.encode())
            if len(paragraph) >= rng.randint(3, 6):
                lines.append("".join(paragraph))
                paragraph = []
        if paragraph:
            lines.append("".join(paragraph))
        text = "\n".join(lines) + "\n"
        if number % 20 == 7:
            text = to_traditional.convert(text)
        path = folder / f"release-{number:06d}.txt"
        data = text.encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        paths.append(path)
    return paths
