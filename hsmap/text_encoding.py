"""Which encoding a text file is in, including the untidy cases customs extracts come in.

- UTF-8, with or without a byte-order mark: the usual case, checked in one streaming pass.
- UTF-16 and UTF-32 with a byte-order mark (what "Unicode text" exports of spreadsheets write).
- Windows-1252, the 8-bit encoding of most Western European systems: a file with no UTF-8 in it at all. Its
  five undefined bytes read as Latin-1, so every file decodes.
- UTF-8 with some lines in Windows-1252, as when extracts from two systems are concatenated: each byte
  sequence that is not UTF-8 is read as Windows-1252, so ``PERÚ`` stays ``PERÚ`` on both kinds of line
  (decoding the whole file as either encoding would garble the other kind).

The two Windows-1252 readings are registered as Python codecs (``hsmap_windows_1252`` and
``hsmap_utf8_or_windows_1252``), so Python's ``open`` and pyarrow's CSV reader can use them by name.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

WINDOWS_1252 = "hsmap_windows_1252"
MIXED = "hsmap_utf8_or_windows_1252"
_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
WIDE = ("utf-16", "utf-32")  # encodings whose text has NUL bytes
_TABLE = "".join(bytes([byte]).decode("cp1252", errors="ignore") or chr(byte) for byte in range(256))
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _as_windows_1252(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 refused (a few at a time) as Windows-1252."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(_TABLE[byte] for byte in error.object[error.start : error.end]), error.end


class _MixedDecoder(codecs.IncrementalDecoder):
    """UTF-8, with each sequence that is not UTF-8 read as Windows-1252 (incomplete sequences at the end of a
    block wait for the next one, as in UTF-8's own decoder)."""

    def __init__(self, errors: str = "strict") -> None:
        super().__init__(errors)
        self._utf8 = codecs.getincrementaldecoder("utf-8")(MIXED)

    def decode(self, data: bytes, final: bool = False) -> str:  # type: ignore[override]
        return self._utf8.decode(data, final)

    def reset(self) -> None:
        self._utf8.reset()

    def getstate(self) -> tuple[bytes, int]:
        return self._utf8.getstate()

    def setstate(self, state: tuple[bytes, int]) -> None:
        self._utf8.setstate(state)


class _Windows1252Decoder(codecs.IncrementalDecoder):
    """Windows-1252 with Latin-1 for its five undefined bytes: every byte decodes (a charmap, in C)."""

    def decode(self, data: bytes, final: bool = False) -> str:  # type: ignore[override]
        return codecs.charmap_decode(data, "strict", _TABLE)[0]


def _codec(name: str, decoder: type[codecs.IncrementalDecoder]) -> codecs.CodecInfo:
    def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
        return decoder().decode(bytes(data), final=True), len(data)

    return codecs.CodecInfo(
        name=name,
        encode=codecs.utf_8_encode,  # never used to write: hsmap writes UTF-8
        decode=decode,
        incrementalencoder=codecs.getincrementalencoder("utf-8"),
        incrementaldecoder=decoder,
    )


_CODECS = {MIXED: _codec(MIXED, _MixedDecoder), WINDOWS_1252: _codec(WINDOWS_1252, _Windows1252Decoder)}
codecs.register(_CODECS.get)
codecs.register_error(MIXED, _as_windows_1252)


def detect_encoding(path: Path) -> str:
    """The encoding to read ``path`` with: ``utf-8``/``utf-8-sig``, ``utf-16``/``utf-32`` (byte-order mark),
    or one of the Windows-1252 readings (see the module docstring)."""
    with path.open("rb") as handle:
        head = handle.read(4)
        for mark, name in _BOMS:
            if head.startswith(mark):
                return name
        handle.seek(0)
        if not _is_utf8(handle):
            return MIXED if _has_utf8(path) else WINDOWS_1252
    return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


def _is_utf8(handle: BinaryIO) -> bool:
    """Whether the rest of a binary file is valid UTF-8, checked by Arrow's validator a few megabytes at a time
    (8× faster than Python's decoder); a character cut by a block's end is checked with the next block."""
    pending = b""
    while block := handle.read(1 << 22):
        block = pending + block
        cut = len(block)
        while cut > 0 and block[cut - 1] & 0xC0 == 0x80 and len(block) - cut < 3:  # continuation bytes
            cut -= 1
        if cut > 0 and block[cut - 1] >= 0xC0:  # a character's first byte: it may go on in the next block
            cut -= 1
        else:
            cut = len(block)
        if not _valid_utf8(block[:cut]):
            return False
        pending = block[cut:]
    return _valid_utf8(pending)


def _valid_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _has_utf8(path: Path) -> bool:
    """Whether a file that is not all UTF-8 still holds UTF-8 multi-byte characters (a mixed file)."""
    tail = b""
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            if _UTF8_SEQUENCE.search(tail + block):
                return True
            tail = block[-3:]
    return False
