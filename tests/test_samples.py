"""The bundled samples are the real seed releases, byte for byte: checked against the SHA-256
sums kept in the repository (``tests/fixtures/samples.sha256``, ``sha256sum`` format), so a fresh
clone can check them with nothing beside it."""

import hashlib

import pytest

from tests.conftest import REPO, SAMPLES, SEEDS

CHECKSUMS = REPO / "tests" / "fixtures" / "samples.sha256"


def recorded_sums() -> dict[str, str]:
    sums = {}
    for line in CHECKSUMS.read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.lstrip("*")] = digest
    return sums


@pytest.mark.parametrize("sample", SEEDS, ids=lambda p: p.name[:3])
def test_sample_is_unchanged_copy_of_seed(sample):
    assert hashlib.sha256(sample.read_bytes()).hexdigest() == recorded_sums()[sample.name]


def test_every_sample_has_a_recorded_sum_and_no_sum_is_stale():
    assert sorted(path.name for path in SAMPLES.iterdir() if path.is_file()) == sorted(recorded_sums())
