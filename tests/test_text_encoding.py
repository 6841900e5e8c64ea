"""The UTF-8 check that chooses how a declaration file is read: it must agree with Python's own decoder
wherever a block of the file happens to end, even inside a character."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from hsmap.text_encoding import MIXED, WINDOWS_1252, _is_utf8, detect_encoding


class _ShortReads(io.BytesIO):
    """A file that hands out a few bytes per read, as blocks ending anywhere would."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        super().__init__(data)
        self._sizes = sizes

    def read(self, size: int | None = -1) -> bytes:
        return super().read(self._sizes.pop() if self._sizes else -1)


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@given(
    text=st.text(alphabet="aZ9,;\n éÚñ€жд中文😀", max_size=40),
    damage=st.lists(st.tuples(st.integers(0, 60), st.integers(0x80, 0xFF)), max_size=2),
    sizes=st.lists(st.integers(1, 5), max_size=30),
)
def test_utf8_check_agrees_with_python_wherever_blocks_end(text, damage, sizes):
    data = bytearray(text.encode("utf-8"))
    for position, byte in damage:
        if data:
            data[position % len(data)] = byte
    assert _is_utf8(_ShortReads(bytes(data), sizes)) == _decodes(bytes(data))


def test_declaration_files_get_the_reading_their_bytes_need(tmp_path):
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes("hs_code,description\n9301.10,OBUSIER 155 MM – PIÈCES\n".encode() * 200_000)  # > one block
    latin = tmp_path / "latin.csv"
    latin.write_bytes("hs_code,description\n9301.10,OBUSIER PIÈCES\n".encode("cp1252"))
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(utf8.read_bytes()[:200] + "9303.20,FUSIL PERÚ\n".encode("cp1252"))
    assert [detect_encoding(p) for p in (utf8, latin, mixed)] == ["utf-8", WINDOWS_1252, MIXED]
