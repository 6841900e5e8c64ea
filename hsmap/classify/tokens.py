"""Split texts into the tokens the lexicon is matched on, a whole column at a time.

A token is a run of letters or a run of digits, in lower case and without accents, so ``T-72``, ``t72`` and
``T 72`` all read ``t``, ``72``. Most customs text is ASCII: its bytes are classified and cut with numpy in
a few passes over the column's data buffer. Texts with other characters are first brought to that shape with
Arrow's Unicode functions (decomposed, marks dropped, lower-cased, anything but a letter or digit made a
space, letters and digits of any script cut apart); their remaining non-ASCII bytes then form tokens of their
own.
"""

from __future__ import annotations

import contextlib
import html

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hsmap.arrow_strings import string_bytes

_SEPARATOR, _LETTER, _DIGIT = 0, 1, 2
_KIND = np.full(256, _LETTER, dtype=np.int8)  # bytes of non-ASCII characters: letters, once prepared
_KIND[:128] = _SEPARATOR
_KIND[np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)] = _LETTER
_KIND[np.frombuffer(b"0123456789", dtype=np.uint8)] = _DIGIT
_LOWER = np.arange(256, dtype=np.uint8)
_LOWER[ord("A") : ord("Z") + 1] += ord("a") - ord("A")


def as_text_array(values: pa.Array | pa.ChunkedArray | pd.Series | pd.Index | list[str]) -> pa.Array:
    """Any column of texts as one Arrow ``string`` array, missing values as empty texts."""
    if isinstance(values, pd.Series | pd.Index):
        values = values.array
    array = pa.array(values, type=pa.string()) if isinstance(values, list) else values
    if not isinstance(array, pa.Array | pa.ChunkedArray):
        array = pa.array(array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return pc.fill_null(array.cast(pa.string()), "")


# What exports from web forms and twice-decoded files leave in a description: HTML entities ("d&#39;assaut")
# and UTF-8 read as Windows-1252 ("blindÃ©s", "dâ€™assaut").
_GARBLED = (
    r"&(?:#\d{1,6}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});"  # an entity
    r"|[ÃÂ][\x{80}-\x{BF}\x{A0}-\x{FF}€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]|â€"  # a UTF-8 pair read as two characters
)


def readable(texts: pa.Array) -> pa.Array:
    """Texts with HTML entities decoded and UTF-8 read as Windows-1252 mended, so "Fusils d&#39;assaut" and
    "VÃ©hicules blindÃ©s" are read as written; only the few texts that show either are touched, one by one."""
    garbled = pc.match_substring_regex(texts, _GARBLED)
    if not pc.any(garbled).as_py():
        return texts
    mended = [_mended(text) for text in pc.filter(texts, garbled).to_pylist()]
    return pc.replace_with_mask(texts, garbled, pa.array(mended, type=texts.type))


def _mended(text: str) -> str:
    with contextlib.suppress(UnicodeError):  # only a whole text of UTF-8 read as Windows-1252 ("SÃO" is Portuguese)
        text = text.encode("cp1252").decode("utf-8")
    return html.unescape(text)


def _prepare_unicode(texts: pa.Array) -> pa.Array:
    texts = pc.replace_substring_regex(pc.utf8_normalize(texts, "NFKD"), r"\p{Mn}+", "")
    texts = pc.replace_substring_regex(pc.utf8_lower(texts), r"[^\p{L}\p{N}]+", " ")
    # Arabic "for the" is written joined to its noun: "للدبابات" (for the tanks) is "ل الدبابات", so the purpose
    # word and the noun are read as in "قطع غيار لـ الدبابات"
    texts = pc.replace_substring_regex(texts, "(^| )\u0644\u0644(\\p{L})", "\\1\u0644 \u0627\u0644\\2")
    # and the Arabic article is no part of the word ("البنادق الهجومية" are "بنادق هجومية", assault rifles), also
    # after "and" written joined to it ("والدبابات"); two letters at least are left ("الة" stays)
    texts = pc.replace_substring_regex(texts, "(^| )(\u0648?)\u0627\u0644(\\p{L}\\p{L})", "\\1\\2\\3")
    texts = pc.replace_substring_regex(texts, r"(\p{L})(\p{N})", r"\1 \2")  # "١٢٠مم": digits of any script
    texts = pc.replace_substring_regex(texts, r"(\p{N})(\p{L})", r"\1 \2")  # are cut from letters too
    # Chinese is written without spaces: each character is a token, and a term of several characters matches
    # as a run of them, as a term of several words does ("主战坦克" holds "坦克")
    return pc.replace_substring_regex(texts, r"(\p{Han})", r" \1 ")


def tokenize(values: pa.Array | pa.ChunkedArray | pd.Series | pd.Index | list[str]) -> pa.ListArray:
    """The tokens of each text, as a list array aligned with the input (an empty list for an empty text)."""
    texts = as_text_array(values)
    unicode = pc.invert(pc.string_is_ascii(texts))
    if pc.any(unicode).as_py():
        texts = pc.replace_with_mask(texts, unicode, _prepare_unicode(pc.filter(texts, unicode)))
    if len(texts) == 0:
        return pa.ListArray.from_arrays(pa.array([0], pa.int32()), pa.array([], pa.string()))
    offsets, data = string_bytes(texts)
    data, offsets = data[offsets[0] : offsets[-1]], offsets - offsets[0]

    kind = _KIND[data]
    new_text = np.zeros(len(data) + 1, dtype=bool)
    new_text[offsets] = True  # a byte that begins a text, and the end
    changes = np.empty(len(data) + 1, dtype=bool)  # between byte i-1 and byte i the kind changes, or a text does
    changes[1:-1] = kind[1:] != kind[:-1]
    changes[0] = changes[-1] = True
    changes |= new_text
    in_token = kind != _SEPARATOR
    starts = np.flatnonzero(changes[:-1] & in_token)
    ends = np.flatnonzero(changes[1:] & in_token) + 1

    token_offsets = np.zeros(len(starts) + 1, dtype=np.int32)
    np.cumsum(ends - starts, out=token_offsets[1:])
    tokens = pa.StringArray.from_buffers(len(starts), pa.py_buffer(token_offsets), pa.py_buffer(_LOWER[data[in_token]]))
    parents = np.searchsorted(offsets, starts, side="right") - 1
    list_offsets = np.zeros(len(texts) + 1, dtype=np.int32)
    np.cumsum(np.bincount(parents, minlength=len(texts)), out=list_offsets[1:])
    return pa.ListArray.from_arrays(pa.array(list_offsets), tokens)


def normalize_text(values: pa.Array | pd.Series | list[str]) -> list[str]:
    """Each text as its tokens joined by one space: ``"T-72 Tanks"`` → ``"t 72 tanks"``."""
    return pc.binary_join(tokenize(values), " ").to_pylist()
