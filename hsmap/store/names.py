"""Readable names for the State keys the store uses (ISO alpha-3, ``?name``, ``*name``)."""

from __future__ import annotations

import functools

import pycountry


@functools.lru_cache(maxsize=8192)
def country_name(key: str) -> str:
    """A readable name for a store key: the ISO short name, or the text behind ``?name``/``*name``."""
    if not key:
        return ""
    if key[0] in "?*":
        return key[1:]
    country = pycountry.countries.get(alpha_3=key)
    if country is None:
        return key
    return str(getattr(country, "common_name", None) or country.name)
