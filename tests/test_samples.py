"""The bundled samples are the real seed releases, byte for byte."""

import pytest

from tests.conftest import SEEDS, SHARED_SEEDS


@pytest.mark.parametrize("sample", SEEDS, ids=lambda p: p.name[:3])
def test_sample_is_unchanged_copy_of_seed(sample):
    seed = SHARED_SEEDS / sample.name
    if not SHARED_SEEDS.is_dir():
        pytest.fail(f"shared seeds folder missing: {SHARED_SEEDS}")
    assert sample.read_bytes() == seed.read_bytes()
