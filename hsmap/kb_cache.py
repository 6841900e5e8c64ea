"""Built once, loaded in milliseconds: results of slow, pure builds kept in the user's cache folder.

Loading the knowledge base reads some twenty files and validates every row; compiling its lexicon, reading the
general word lists, normalising the HS nomenclature's wording and building the partner name table cost more
again — seconds that a fresh ``hsmap`` process would pay on every start. :func:`cached` keeps the result of
such a build as a pickle named by a key that covers everything it was built from, so a changed input is a new
key and a fresh build — an edited mapping file is never served stale. :func:`load_compiled_knowledge` is that
for ``mappings/``; its key is the SHA-256 of every file under the folder (path and bytes), the folder's
location, the hsmap version and its source files, and the versions of Python and of the libraries whose
objects are pickled. What is derived from the knowledge base alone is cached under its key
(``Knowledge.cache_key``); what is built from a library's data (:func:`cached_build`) under that library's
version and the build's own inputs.

The cache only ever saves time: a file that cannot be read back (truncated, corrupt, from another version) is
rebuilt silently, and a folder that cannot be written leaves hsmap working without a cache. The folder is the
user cache folder (``platformdirs``) unless ``HSMAP_CACHE_DIR`` names another; the test suite points it at a
temporary one. Like any cache of pickles, it must be writable by its user only (the platform default is).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from hsmap.outputs import write_atomically

Built = TypeVar("Built")
KEEP = 8  # cache files kept per kind: the newest, so edits to mappings/ do not pile up
_PICKLED_LIBRARIES = ("pandas", "pyarrow", "numpy", "pydantic")  # their objects live in the pickles


def cache_dir() -> Path:
    """``$HSMAP_CACHE_DIR``, or the user cache folder (``~/.cache/hsmap`` on Linux)."""
    configured = os.environ.get("HSMAP_CACHE_DIR")
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("hsmap", appauthor=False))


def cached(kind: str, key: str, build: Callable[[], Built], expected: type[Built]) -> Built:
    """The ``expected`` object cached as ``kind`` under ``key``, or ``build()`` — then kept for next time."""
    folder = cache_dir()
    path = folder / f"{kind}-{key}.pickle"
    try:
        found = pickle.loads(path.read_bytes())
        if isinstance(found, expected):
            return found
    except Exception:  # missing, truncated, corrupt or stale: any of them means build it again
        pass
    result = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        pickled = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        # readers see the whole file or none; each process writes its own partial file, removed on any failure
        write_atomically(path, lambda partial: partial.write_bytes(pickled), per_process=True)
        _prune(folder, kind)
    except Exception:  # read-only folder, full disk, unpicklable result: work without a cache
        pass
    return result


def _prune(folder: Path, kind: str) -> None:
    files = sorted(folder.glob(f"{kind}-*.pickle"), key=lambda file: file.stat().st_mtime_ns, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)


def cached_build(
    kind: str, inputs: Iterable[bytes], libraries: Iterable[str], build: Callable[[], Built], expected: type[Built]
) -> Built:
    """:func:`cached` under a key made of ``inputs``, hsmap, Python and the versions of ``libraries`` (their
    distribution names): the data a build reads from them moves only with their version."""
    versions = "\0".join(_version(name) for name in libraries).encode()
    return cached(kind, digest([*code_digest(), versions + b"\0", *inputs]), build, expected)


def folder_digest(folder: Path) -> Iterable[bytes]:
    """Every file under ``folder`` as its relative path and its bytes, in a fixed order."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0"


@functools.cache
def code_digest() -> tuple[bytes, ...]:
    """What decides how a build turns out besides its inputs: hsmap (version, and its source files' sizes and
    times, for a source checkout whose version does not move), Python, and the libraries of the pickles.
    Looked at once per process: a running process keeps the code it started with."""
    versions = [sys.version, _version("hsmap"), *(_version(name) for name in _PICKLED_LIBRARIES)]
    package = Path(__file__).resolve().parent
    parts = ["\0".join(versions).encode()]
    for path in sorted(package.rglob("*.py")):
        status = path.stat()
        parts.append(f"{path.relative_to(package).as_posix()}:{status.st_size}:{status.st_mtime_ns}\0".encode())
    return tuple(parts)


def _version(distribution: str) -> str:
    loaded = getattr(sys.modules.get(distribution), "__version__", None)  # no search of the installed packages
    if loaded is not None:
        return str(loaded)
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "-"


def digest(parts: Iterable[bytes]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part)
    return hasher.hexdigest()[:32]


def load_compiled_knowledge(root: Path, build: Callable[[Path, str], Built], expected: type[Built]) -> Built:
    """``build(root, key)`` — the validated knowledge base of ``mappings/`` at ``root``, which keeps ``key`` for
    what is derived from it — from the cache while no file under ``root``, nor hsmap, has changed since it was
    built."""
    key = digest([str(root).encode() + b"\0", *code_digest(), *folder_digest(root)])
    return cached("knowledge", key, lambda: build(root, key), expected)
