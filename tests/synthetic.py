"""Deterministic synthetic releases built from the sentences of the real seeds.

Used where a test needs more documents than the five seeds (paging, facets with many values).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from tests.conftest import SEEDS

DISTRICTS = ["九龙坡区", "渝中区", "江北区", "万州区", "郾城区", "海淀区", "鼓楼区", "天河区", "武侯区", "雁塔区"]


def seed_sentences() -> list[str]:
    sentences = []
    for seed in SEEDS:
        for sentence in re.split(r"(?<=[。！？])", seed.read_text(encoding="utf-8")):
            sentence = sentence.strip()
            if 15 <= len(sentence) <= 200 and "\n" not in sentence:
                sentences.append(sentence)
    return sentences


def write_releases(folder: Path, count: int, seed: int = 7) -> list[Path]:
    """``count`` releases, each naming one district in its headline and bureau, dated 2015–2026."""
    rng = random.Random(seed)
    sentences = seed_sentences()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        district = DISTRICTS[number % len(DISTRICTS)]
        year, month, day = rng.randint(2015, 2026), rng.randint(1, 12), rng.randint(1, 28)
        body = [f"{district}公安分局通报:" + rng.choice(sentences)]
        body += [rng.choice(sentences) for _ in range(rng.randint(3, 8))]
        text = (
            f"{district}公安分局第{number + 1}号警情通报\n"
            f"发布时间:{year}-{month:02d}-{day:02d} 10:00 | 来源:{district}公安分局\n" + "\n".join(body) + "\n"
        )
        path = folder / f"synthetic_{number:04d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
