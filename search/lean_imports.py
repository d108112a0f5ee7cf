"""Importing one module of a package without running the package's ``__init__``.

Some packages import everything they have in their ``__init__``: ``datasketch`` pulls in scipy
(~40 MB of resident memory, in every writer process of a full build) although signing a release
needs only ``datasketch.minhash``. ``lean_package`` puts a stand-in for the package in
``sys.modules`` that imports its submodules directly and takes the names it is told of from the
submodule that defines them (``from datasketch import MinHash`` → ``datasketch.minhash``); the
first time anything else is asked of it (``from datasketch import MinHashLSH``), the real
``__init__`` runs in the stand-in, so code that wants the whole package still gets it.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any


class _LeanPackage(types.ModuleType):
    _lean_sources: dict[str, str]

    def __getattr__(self, name: str) -> Any:
        # only called for what is not there yet
        if name.startswith("__") or self.__dict__.get("_lean_loaded"):
            raise AttributeError(name)
        source = self._lean_sources.get(name)
        if source is not None:
            value = getattr(importlib.import_module(f"{self.__name__}.{source}"), name)
            setattr(self, name, value)
            return value
        # anything else: run the real ``__init__`` once, then look again
        self.__dict__["_lean_loaded"] = True
        spec = self.__spec__
        code = spec.loader.get_code(spec.name)  # type: ignore[union-attr]
        exec(code, self.__dict__)  # the package's own __init__, as an import would run it
        return getattr(self, name)


def lean_package(name: str, sources: dict[str, str]) -> None:
    """Let ``import name.sub`` load just ``sub`` (and what it imports), and ``from name import X``
    just ``name.sources[X]``, until more is asked for. Does nothing when the package is already
    imported or not installed."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None or spec.loader is None:
        return
    package = _LeanPackage(name)
    package.__spec__ = spec
    package.__path__ = list(spec.submodule_search_locations)
    package.__file__ = spec.origin
    package.__loader__ = spec.loader
    package.__package__ = name
    package._lean_sources = dict(sources)
    sys.modules[name] = package
