"""Writing outputs without destroying data.

Three rules every writer of hsmap follows:

- A file is written under a name a person recognises, ``<target>.hsmap-partial`` beside the target, flushed to
  disk (fsync) and renamed onto the target only after every write and the close succeeded (:class:`AtomicFile`).
  On any failure — a full disk, an exception, Ctrl+C or SIGTERM — the partial file is removed and the previous
  target, if any, stays byte for byte as it was.
- A folder output carries a manifest, ``_hsmap_manifest.json``, listing the files hsmap wrote into it. hsmap
  writes into a new or empty folder, or into one holding its manifest, and then replaces or removes only the
  files that manifest lists: never a file it did not write (:func:`check_output_folder`, :func:`swap_folder`).
  Readers skip the manifest (pyarrow, Dask and Spark ignore names starting with ``_``).
- An output is never an input: not the same file (also through a link), not a folder holding an input or
  lying inside an input folder (:func:`refuse_overlap`).
"""

from __future__ import annotations

import errno
import gc
import json
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import TracebackType

from hsmap.errors import InputError, OutputError

PARTIAL_SUFFIX = ".hsmap-partial"
MANIFEST = "_hsmap_manifest.json"
_WRITER = "hsmap"


def partial_path(target: Path, per_process: bool = False) -> Path:
    """Where ``target`` is written before it is complete: ``<target>.hsmap-partial`` in the same folder (a
    rename within one file system is atomic); ``<target>.<pid>.hsmap-partial`` with ``per_process``, for a file
    that several processes may write at the same time (a cache)."""
    process = f".{os.getpid()}" if per_process else ""
    return target.with_name(f"{target.name}{process}{PARTIAL_SUFFIX}")


def check_folder(target: Path) -> None:
    """The folder a file is written into must exist (hsmap creates no folders a user did not ask for)."""
    if not target.parent.exists():
        raise InputError(str(target), None, None, f"folder {target.parent} does not exist")


def _is_write_failure(error: BaseException | None) -> bool:
    """Whether ``error`` says the bytes could not be written: an OSError (ENOSPC, EFBIG, EACCES…), or lxml's
    report of one when openpyxl streams a sheet."""
    if isinstance(error, OSError):
        return True
    try:
        from lxml.etree import SerialisationError
    except ImportError:  # openpyxl then writes with the standard library, which raises OSError
        return False
    return isinstance(error, SerialisationError)


@contextmanager
def writing(target: Path) -> Iterator[None]:
    """Turn a failure to write ``target`` into an :class:`OutputError` naming it (one line, no traceback)."""
    try:
        yield
    except OutputError:
        raise
    except Exception as error:
        if not _is_write_failure(error):
            raise
        kept = f"{target.name} is unchanged" if target.exists() else "nothing was written"
        release_quietly(error)
        raise OutputError(f"{target}: could not be written ({_reason(error)}); {kept}") from None


def _reason(error: Exception) -> str:
    """The system's words for a write failure: "No space left on device" (lxml says ``IO_ENOSPC``)."""
    number = getattr(error, "errno", None)
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if not isinstance(number, int) and text.startswith("IO_E"):
        number = getattr(errno, text.removeprefix("IO_"), None)
    return os.strerror(number) if isinstance(number, int) else text


def release_quietly(error: BaseException | None = None) -> None:
    """Close now what a failed writer left half-written (openpyxl's sheet streams, held by the frames of
    ``error``'s traceback or by objects just dropped), ignoring the write error each raises again as it
    closes — left to the garbage collector, it would print as a traceback when hsmap exits."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None if _is_write_failure(unraisable.exc_value) else hook(unraisable)
    try:
        if error is not None:
            traceback.clear_frames(error.__traceback__)
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _fsync(path: Path) -> None:
    """Flush a file (or, on POSIX, a folder's entries) to the disk, so a rename never exposes unwritten data."""
    if path.is_dir() and os.name != "posix":
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class AtomicFile:
    """A file written whole or not at all: write to :attr:`partial`, then leave the ``with`` block.

    On a normal exit the partial file is flushed, closed already by its writer, and renamed onto the target;
    on an exception (any ``BaseException``) it is removed. :meth:`commit` and :meth:`discard` do the same for
    writers that manage their own closing.
    """

    def __init__(self, target: Path | str, *, per_process: bool = False) -> None:
        self.target = Path(target)
        check_folder(self.target)
        if self.target.is_dir():
            raise InputError(str(self.target), None, None, "is a folder; give a file name as output")
        self.partial = partial_path(self.target, per_process)
        self._flushed = False

    def __enter__(self) -> AtomicFile:
        _remove(self.partial)  # left by a run that was killed outright (SIGKILL, power cut)
        return self

    def sync_written(self) -> None:
        """Start the disk on what is written so far: a writer calls it between chunks, so the disk works while
        the next chunk is computed and the final :meth:`flush` has only the last chunk left to wait for."""
        if hasattr(os, "fdatasync") and self.partial.is_file():
            with writing(self.target):
                descriptor = os.open(self.partial, os.O_RDONLY)
                try:
                    os.fdatasync(descriptor)
                finally:
                    os.close(descriptor)

    def flush(self) -> None:
        """Flush the complete partial file to the disk (once), so that only the rename is left; on failure
        remove it. A caller putting several files in place together flushes them all before any commit."""
        if self._flushed:
            return
        try:
            with writing(self.target):
                _fsync(self.partial)
        except BaseException:
            self.discard()
            raise
        self._flushed = True

    def commit(self) -> None:
        """Flush the complete partial file and rename it onto the target; on failure remove it."""
        self.flush()
        try:
            with writing(self.target):
                os.replace(self.partial, self.target)
                _fsync(self.target.parent)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Remove the partial file; the target is left as it was."""
        _remove(self.partial)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def write_atomically(target: Path | str, write: Callable[[Path], object], *, per_process: bool = False) -> Path:
    """Call ``write(partial_path)`` and put the finished file at ``target``; returns ``target``."""
    with AtomicFile(target, per_process=per_process) as file, writing(file.target):
        write(file.partial)
    return file.target


# --- folders ------------------------------------------------------------------------------------------------


def read_manifest(folder: Path) -> list[PurePosixPath] | None:
    """The files hsmap wrote into ``folder`` by its manifest; None when there is no readable hsmap manifest.
    Entries that would leave the folder (absolute, ``..``) are never trusted."""
    try:
        content = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(content, dict) or content.get("written_by") != _WRITER:
        return None
    files = content.get("files")
    if not isinstance(files, list):
        return None
    paths = [PurePosixPath(name) for name in files if isinstance(name, str) and name]
    return [path for path in paths if not path.is_absolute() and ".." not in path.parts]


def write_manifest(folder: Path, files: Iterable[PurePosixPath]) -> None:
    """Record (atomically) which files of ``folder`` hsmap wrote."""
    names = sorted({path.as_posix() for path in files})
    text = json.dumps({"written_by": _WRITER, "files": names}, indent=1) + "\n"
    write_atomically(folder / MANIFEST, lambda partial: partial.write_text(text, encoding="utf-8"))


def check_output_folder(target: Path) -> None:
    """Refuse a folder output hsmap may not write into: an existing file, or a folder that holds anything
    and has no hsmap manifest (its files are someone else's)."""
    if target.is_file():
        raise InputError(str(target), None, None, "a dataset is written as a folder; give a folder as output")
    if target.is_dir() and any(target.iterdir()) and read_manifest(target) is None:
        raise InputError(
            str(target),
            None,
            None,
            f"the folder is not empty and was not written by hsmap (no {MANIFEST}); give a new or empty folder",
        )


def swap_folder(staging: Path, target: Path) -> None:
    """Put the complete folder ``staging`` (with its manifest) at ``target``.

    A new or empty target takes the staging folder's name in one rename. Into an earlier hsmap output, each
    new file is renamed over its old version, then the files only the old manifest lists are removed;
    everything else in the folder stays. The manifest lists old and new files while they are swapped, so an
    interrupted swap still leaves a folder hsmap recognises as its own.
    """
    check_output_folder(target)  # the folder may have changed since the run began
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        os.replace(staging, target)
        _fsync(target.parent)
        return
    old = read_manifest(target) or []
    new = read_manifest(staging) or []
    write_manifest(target, [*old, *new])
    for relative in new:
        destination = target.joinpath(*relative.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging.joinpath(*relative.parts), destination)
    for relative in set(old) - set(new):
        _remove_owned(target, relative)
    write_manifest(target, new)
    shutil.rmtree(staging, ignore_errors=True)


def _remove_owned(root: Path, relative: PurePosixPath) -> None:
    """Remove one file hsmap wrote, and the folders it leaves empty (up to ``root``)."""
    path = root.joinpath(*relative.parts)
    if path.is_file() or path.is_symlink():
        path.unlink()
    for folder in path.parents:
        if folder == root or not folder.is_relative_to(root):
            break
        try:
            folder.rmdir()  # only when empty
        except OSError:
            break


# --- outputs against inputs ---------------------------------------------------------------------------------


def _same(first: Path, second: Path) -> bool:
    try:
        return first.exists() and second.exists() and os.path.samefile(first, second)
    except OSError:
        return False


def refuse_overlap(
    output: Path | str,
    inputs: Iterable[Path | str | None],
    *,
    folder: bool = False,
    read_suffixes: Iterable[str] = (),
) -> None:
    """Raise InputError when writing ``output`` could overwrite, delete or later re-read one of ``inputs``.

    Refused: the output is an input (also through a link or another spelling of the path); a ``folder``
    output that holds an input or lies inside an input folder; a file output inside an input folder when its
    suffix is one of ``read_suffixes`` (a folder scan would read it as input next time).
    """
    output = Path(output)
    resolved = output.resolve()
    suffixes = tuple(suffix.lower() for suffix in read_suffixes)
    for given in inputs:
        if given is None:
            continue
        source = Path(given)
        where = source.resolve()
        if resolved == where or _same(output, source):
            raise InputError(str(output), None, None, f"is the input {source}; choose another output")
        if folder and where.is_relative_to(resolved):
            raise InputError(str(output), None, None, f"holds the input {source}; choose another output folder")
        if source.is_dir() and resolved.is_relative_to(where) and (folder or output.suffix.lower() in suffixes):
            raise InputError(str(output), None, None, f"lies inside the input folder {source}; write it elsewhere")
