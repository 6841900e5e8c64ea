"""Readable names for the State keys the store uses (ISO alpha-3, ``?name``, ``*name``)."""

from __future__ import annotations

import functools

from hsmap.countries import country_name as iso_name


@functools.lru_cache(maxsize=8192)
def country_name(key: str) -> str:
    """A readable name for a store key: the ISO short name (a former State's ISO 3166-3 name), or the text
    behind ``?name``/``*name``."""
    if not key:
        return ""
    if key[0] in "?*":
        return key[1:]
    return iso_name(key) or key
