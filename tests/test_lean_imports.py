"""A package's ``__init__`` left out until something beyond the named modules is asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.synthetic import write_releases

_CHECK = """
import sys
from pathlib import Path
from search.sync_writing import _prepare
path = Path(sys.argv[1])
fields, (key, problem, doc_id, warnings, (signature, size)) = _prepare((path, str(path)))
print(len(signature), size, "scipy" in sys.modules, "datasketch.lsh" in sys.modules)
from datasketch import MinHash, MinHashLSH  # the whole package, when asked for
import datasketch.minhash
print(MinHash is datasketch.minhash.MinHash, MinHashLSH.__name__, bool(datasketch.__version__))
"""


def test_a_writer_signs_releases_without_loading_scipy_yet_can_load_the_rest(tmp_path: Path) -> None:
    """A full build's writer processes sign releases (``_prepare``) with datasketch's MinHash
    alone: the rest of the package would load scipy (~40 MB) in each of them."""
    (release,) = write_releases(tmp_path, 1)
    # a fresh interpreter: this one may have imported datasketch whole already
    command = [sys.executable, "-c", _CHECK, str(release)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    lean, whole = result.stdout.splitlines()
    assert lean.split()[2:] == ["False", "False"] and lean.split()[0] == "256"
    assert whole == "True MinHashLSH True"


def test_a_package_already_imported_is_left_alone() -> None:
    import datasketch

    from search.lean_imports import lean_package

    lean_package("datasketch", {"MinHash": "minhash"})
    assert sys.modules["datasketch"] is datasketch
