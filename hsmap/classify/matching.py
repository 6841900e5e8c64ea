"""Find the lexicon's terms in goods descriptions: exact first, fuzzy on what exact matching leaves.

Texts and terms are cut into the same tokens (:mod:`hsmap.classify.tokens`), so ``T-72``, ``t72`` and
``T 72`` are one token sequence ``t 72``. Exact matching finds the token n-grams that are keys for many texts
at once, each n-gram a hash of its words' numbers (:class:`RunIndex`), and the longest key wins; a
designation the lexicon does not list is still recognised by its shape when its family does ("Su-35" beside
Su-27, Su-30 and Su-34), and Russian designations are found in Cyrillic too ("Су-30", "Т-72Б3").
``rapidfuzz.process.cdist`` then scores the leftover words against the lexicon in parallel, so typos
(``howitser``) still count, at a discount, unless the word is a real word itself (``airplanes``).
A national tariff's description chain ("heading > subheading > line") is read segment by segment, each
finding marked with how far above the line's own text it stands.
Every function works on the distinct texts of a column, never once per line.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache, partial
from typing import get_args

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from hsmap.classify.tokens import as_text_array, normalize_text, readable, tokenize
from hsmap.classify.vocabulary import LANGUAGES, general_word_batches, tariff_words
from hsmap.kb_cache import cached, cached_build
from hsmap.knowledge import Knowledge
from hsmap.schema import RelationKind

_FUZZY_MIN_CHARS = 6
_FUZZY_CUTOFF_SHORT = 90.0  # 6–7 characters: one wrong letter at most
_FUZZY_CUTOFF_LONG = 85.0
_FUZZY_CHUNK = 2048
_REAL_WORD_CUTOFF = _FUZZY_CUTOFF_LONG - 1  # below the typo cutoffs, so no rounding of a score can matter
_REAL_WORDS_LOCK = threading.Lock()
_FUZZY_SAME_START = 2  # a typo keeps the first letters: "airplanes" is no "warplanes", "Singer" no "Stinger"
_FAMILY_MIN_MEMBERS = 3  # listed designations that make a family whose other members are recognised by shape
_CHAIN = " > "  # how national tariffs join a line's ancestors' texts to its own
# A unit letter set apart between two numbers ("CABLE 500 M, 113 KG", "STEEL 12 T, 72 PCS") is the first number's
# unit, not the letter of a designation (M113, T-72): the words a match can use leave it out. A designation keeps
# its letters as designations are written, with a hyphen or no space ("5 T-72", "2 M113", "AK-74M 5.45 mm").
_UNIT_BETWEEN_NUMBERS = r"(\d)\s+[MmTtGgLl]([\s,;]+\d)"
_DESIGNATION_KINDS = ("designation", "namesake")
_OTHER_WORD_LETTERS = 3  # a Latin word this long the lexicon does not know may say what goods are ("PUMA SHOES")
_RELATION_KINDS = get_args(RelationKind)


@dataclass(frozen=True)
class Hit:
    """A lexicon term found in a text."""

    term: str
    alternatives: tuple[str, ...]  # category IDs the term may mean
    kind: str  # term | designation | namesake | component | munition, or a relation word's kind
    weight: float
    fuzzy: float | None = None  # similarity when found by fuzzy matching
    position: int = 0  # index of the word where it starts (in its segment's reduced form)
    segment: int = 0  # 0: the line's own text; 1: its parent in a tariff's description chain; 2: above that …
    flag: str = ""  # raised on a line this term decides (``outside-register-minimum``)
    by_shape: bool = False  # not listed: a designation of a listed family, recognised by its shape
    after_for: bool = False  # written joined to Arabic "for" ("لدبابات", for tanks): what the goods are for

    @property
    def strength(self) -> float:
        return self.weight * (self.fuzzy / 100 if self.fuzzy is not None else 1.0)


@dataclass(frozen=True)
class Lookalike:
    """A negative term found in a text."""

    term: str
    flag: str
    excludes: tuple[str, ...]
    position: int = 0  # as for :class:`Hit`
    segment: int = 0


@dataclass
class TextEvidence:
    """What a description says: terms, look-alike words and the numbers the thresholds use."""

    hits: list[Hit] = field(default_factory=list)
    lookalikes: list[Lookalike] = field(default_factory=list)
    calibre_mm: float | None = None
    tonnes: float | None = None
    range_km: float | None = None
    # a namesake and no other word ("Piranha", "Tiger AV"; not "PUMA SHOES"); not a word of the HS wording, whose
    # goods it more likely is alone ("MICA", "PERRY": pear cider, "TOW": filament tow)
    bare: bool = False

    def signature(self) -> tuple:
        """Everything a decision depends on, hashable."""
        return tuple(self.hits), tuple(self.lookalikes), self.calibre_mm, self.tonnes, self.range_km, self.bare


NO_EVIDENCE = TextEvidence()


_GENERATIONS = itertools.count(1)


@dataclass
class AnalysedTexts:
    """Texts a lexicon has already analysed and their evidence (``evidence[ids[i]]`` for ``texts[i]``), so a
    text that comes back in a later chunk is looked up, not analysed again. Each distinct evidence is in the
    list once (``known``), so lines that say the same thing share an id in every chunk, and ``forms`` gives the
    evidence of each reduced form already scanned. ``generation`` is new whenever the list starts afresh: ids
    are only comparable within one generation."""

    texts: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    evidence: list[TextEvidence] = field(default_factory=lambda: [NO_EVIDENCE])
    known: dict[tuple, int] = field(default_factory=lambda: {NO_EVIDENCE.signature(): 0})
    forms: dict[str, int] = field(default_factory=dict)
    generation: int = field(default_factory=lambda: next(_GENERATIONS))

    def forget(self) -> None:
        """Start afresh (earlier analyses keep the evidence list they were given)."""
        vars(self).update(vars(AnalysedTexts()))

    def __reduce__(self) -> tuple:
        """A process's memory, never stored: the compiled lexicon in the cache folder comes back with a fresh
        one, whose generation this process has not given out (a stored one could equal a later one's)."""
        return AnalysedTexts, ()

    def intern(self, found: TextEvidence) -> int:
        """The id of an evidence: the one it already has if an equal one was met, else a new one."""
        signature = found.signature()
        known = self.known.get(signature)
        if known is None:
            known = self.known[signature] = len(self.evidence)
            self.evidence.append(found)
        return known


@dataclass(frozen=True)
class RunIndex:
    """Every run of words that names something (a key as written, or with a plural ending on its last word)
    and what it names; and the same runs as numbers, so the n-grams of many texts are looked up at once with
    numpy: each word a number (0: a word of no key), each run a hash of its words' numbers. A hash found is
    checked against the run's words, so two runs sharing a hash cannot be confused."""

    found: dict[str, tuple[list[Hit], list[Lookalike]]]
    numbers: dict[str, int]
    hashes: np.ndarray = field(compare=False)  # of the runs in ``found``, sorted (so equal when they are)
    longest: int  # most words in a run


@dataclass(frozen=True)
class Lexicon:
    """The lexicon indexed by normalised token sequence."""

    terms: dict[str, list[Hit]]
    negatives: dict[str, list[Lookalike]]
    longest: dict[str, int]  # first word of a key → most words in a key starting with it
    fuzzy_keys: list[str]  # keys worth fuzzy-matching (long enough, letters)
    words: pa.Array  # every word of every key, and its plural: the only words a match can use
    families: dict[str, tuple[Hit, int, int]]  # designation prefix ("su", "9 m") → what an unlisted member
    # of the family is, and the lowest and highest number of its listed members
    family_ends: pa.Array  # last words of the family prefixes: a number after one is part of a designation
    languages: dict[str, tuple[str, ...]]  # key → languages whose word lists may hold a word looking like it
    family_starts: frozenset[str]  # first words of the family prefixes: where a designation by shape may start
    runs: RunIndex  # every run of words that names something, for scanning many texts at once
    cache_key: str = ""  # the compiled knowledge base's (``Knowledge.cache_key``): what is derived from it is kept
    fuzzy_cache: dict[str, str | None] = field(default_factory=dict, compare=False)  # word → key, across chunks
    fuzzy_seen: list[pa.Array] = field(default_factory=list, compare=False)  # [words already scored], as Arrow
    analysed: AnalysedTexts = field(default_factory=AnalysedTexts, compare=False)
    reach: dict[str, int] = field(default_factory=dict, compare=False)  # word → its ``_reach``, once looked at
    placed: dict[tuple[str, int], tuple[list[Hit], list[Lookalike]]] = field(default_factory=dict, compare=False)
    real_words: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)  # language → ``_real_words``


@cache
def _compiled(kb: Knowledge) -> Lexicon:
    if not kb.cache_key:
        return build_lexicon(kb)
    return cached("lexicon", kb.cache_key, lambda: build_lexicon(kb), Lexicon)


def build_lexicon(kb: Knowledge) -> Lexicon:
    """Index the knowledge base's terms and negatives by their normalised form."""
    terms: dict[str, list[Hit]] = {}
    languages: dict[str, set[str]] = {}
    keys = normalize_text(kb.terms["term"].tolist())
    for key, row in zip(keys, kb.terms.itertuples(index=False), strict=True):
        if key:
            flag = row.flag if isinstance(row.flag, str) else ""  # an empty cell is a missing value
            hit = Hit(row.term, tuple(row.category.split("|")), row.kind, float(row.weight), flag=flag)
            _add_hit(terms.setdefault(key, []), hit)
            languages.setdefault(key, set()).add(row.lang)
    _add_arabic_numeral_designations(terms)
    _add_cyrillic_designations(terms)
    _add_cyrillic_names(terms)
    negatives: dict[str, list[Lookalike]] = {}
    negative_keys = normalize_text(kb.negatives["term"].tolist())
    for key, row in zip(negative_keys, kb.negatives.itertuples(index=False), strict=True):
        if key:
            excludes = tuple(row.excludes.split("|"))
            negatives.setdefault(key, []).append(Lookalike(row.term, row.flag, excludes))
            languages.setdefault(key, set()).add(row.lang)
    _add_arabic_for_forms(terms)
    _add_arabic_and_forms(terms)
    _add_arabic_and_forms(negatives)
    _add_arabic_letter_designations(terms)  # after: a spelled designation joined to "for" or "and" is rare
    all_keys = list(terms) + list(negatives)
    longest: dict[str, int] = {}
    for key in all_keys:
        first, size = key.split()[0], len(key.split())
        longest[first] = max(longest.get(first, 0), size)
    grammar = {key for key, hits in terms.items() if all(hit.kind in _RELATION_KINDS for hit in hits)}
    named = set(all_keys) - grammar  # relation words are grammar: a typo there names no arm, so none is corrected
    parts = {word for key in named for word in key.split()} - set(terms) - set(negatives)  # "infantry" of
    for key in named:  # "infantry fighting vehicle": a typo of it is corrected, and the longer key found
        for word in set(key.split()) & parts:
            languages.setdefault(word, set()).update(languages.get(key, {"any"}))
    fuzzy_keys = sorted(
        word for word in named | parts if len(word) >= _FUZZY_MIN_CHARS and " " not in word and word.isalpha()
    )
    words = {word for key in all_keys for word in key.split()}
    words |= {plural for word in words for plural in _plurals(word)}
    runs = _run_index(terms, negatives, words)
    words = pa.array(sorted(words), type=pa.string())
    families = _families(terms, negatives, kb)
    family_ends = pa.array(sorted({prefix.split()[-1] for prefix in families}), type=pa.string())
    languages_by_key = {
        key: LANGUAGES if "any" in found else tuple(sorted(found)) for key, found in languages.items()
    }
    family_starts = frozenset(prefix.split()[0] for prefix in families)
    return Lexicon(
        terms,
        negatives,
        longest,
        fuzzy_keys,
        words,
        families,
        family_ends,
        languages_by_key,
        family_starts,
        runs,
        cache_key=kb.cache_key,
    )


_LATIN_TO_CYRILLIC = [  # the transliteration Russian designations are written back from ("Su-30" ← "Су-30")
    ("shch", "щ"), ("kh", "х"), ("zh", "ж"), ("ch", "ч"), ("sh", "ш"), ("ts", "ц"), ("ya", "я"), ("yu", "ю"),
    ("a", "а"), ("b", "б"), ("c", "ц"), ("d", "д"), ("e", "е"), ("f", "ф"), ("g", "г"), ("h", "х"), ("i", "и"),
    ("j", "и"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("q", "к"), ("r", "р"),
    ("s", "с"), ("t", "т"), ("u", "у"), ("v", "в"), ("w", "в"), ("x", "кс"), ("y", "ы"), ("z", "з"),
]  # fmt: skip


def _to_cyrillic(word: str) -> str:
    for latin, cyrillic in _LATIN_TO_CYRILLIC:
        word = word.replace(latin, cyrillic)
    return word


def _add_hit(hits: list[Hit], hit: Hit) -> None:
    """A key's hits, one per meaning: two spellings of one term ("Mk 48 torpedo", "Mk-48 torpedo"; "الدبابات" and
    "دبابات") are one cue, the stronger, not two that add up."""
    for position, other in enumerate(hits):
        if (other.alternatives, other.kind) == (hit.alternatives, hit.kind):
            if hit.weight > other.weight:
                hits[position] = hit
            return
    hits.append(hit)


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9}
_ROMAN_WITH_MARK = re.compile(r"(iii|ii)([a-hj-z][a-z]?)")  # "IIIE", "IIa": a mark glued to the number


def _arabic_numeral(token: str, previous: str) -> str | None:
    """A designation's Roman number in Arabic digits ("iii" → "3", "iiie" → "3 e"), or None. Only after a
    name (a word of three or more letters), so "Leopard 1V", "F-35I" and "8x8" keep their letters; a
    mark is split off only after "ii"/"iii", which begin no word ("IFV", "IDS" stay words)."""
    if not (previous.isalpha() and len(previous) >= 3):
        return None
    if token in _ROMAN:
        return str(_ROMAN[token])
    marked = _ROMAN_WITH_MARK.fullmatch(token)
    return f"{_ROMAN[marked[1]]} {marked[2]}" if marked else None


def _add_arabic_numeral_designations(terms: dict[str, list[Hit]]) -> None:
    """Each designation with a Roman number ("Mirage IIIE", "Piranha I", "Harpoon Block II") also as
    written with Arabic digits ("Mirage-3E", "Piranha-1", "Harpoon Block-2"), as the SIPRI register and
    many declarants write them."""
    for key, hits in list(terms.items()):
        designations = [hit for hit in hits if hit.kind in _DESIGNATION_KINDS]
        tokens = key.split()
        if not designations:
            continue
        arabic = [tokens[0]] + [
            _arabic_numeral(token, previous) or token for previous, token in itertools.pairwise(tokens)
        ]
        variant = " ".join(arabic)
        if variant != key and variant not in terms:
            terms[variant] = designations


_ARABIC_AND = "\u0648"  # و, "and": written joined to the word after it ("بنادق ومسدسات", rifles and pistols)


def _add_arabic_and_forms(found: dict[str, list]) -> None:
    """Each key that begins with an Arabic word also as written after "and" ("والدبابات" holds "الدبابات")."""
    for key, values in list(found.items()):
        if "\u0621" <= key[0] <= "\u064a":
            found.setdefault(_ARABIC_AND + key, values)


_ARABIC_FOR = "\u0644"  # ل, "for": written joined to a noun without the article ("قطع غيار لدبابات", parts for tanks)


def _add_arabic_for_forms(terms: dict[str, list[Hit]]) -> None:
    """Each arm, part or munition key that begins with an Arabic word also as written after "for" ("لدبابات"
    holds "دبابات"), marked as what the goods are for. With the article, "للدبابات", the tokenizer parts the
    two already (:mod:`hsmap.classify.tokens`)."""
    for key, hits in list(terms.items()):
        named = [replace(hit, after_for=True) for hit in hits if hit.kind not in _RELATION_KINDS]
        if named and "\u0621" <= key[0] <= "\u064a":
            terms.setdefault(_ARABIC_FOR + key, named)


def _add_cyrillic_designations(terms: dict[str, list[Hit]]) -> None:
    """Each designation of short letter groups and a number ("su 30 mki") also under its Cyrillic spelling
    ("су 30 мки"), unless that spelling starts with a word the lexicon knows otherwise (Russian "с", with,
    is no "S-300")."""
    known_words = {key for key, hits in terms.items() if " " not in key}
    for key, hits in list(terms.items()):
        tokens = key.split()
        designations = [hit for hit in hits if hit.kind in _DESIGNATION_KINDS]
        letters = [token for token in tokens if not token.isdigit()]
        if not designations or len(letters) == len(tokens) or not all(t.isascii() and len(t) <= 4 for t in letters):
            continue
        cyrillic = [_to_cyrillic(token) if token.isalpha() else token for token in tokens]
        variant = " ".join(cyrillic)
        if variant != key and variant not in terms and cyrillic[0] not in known_words:
            terms[variant] = designations


def _add_cyrillic_names(terms: dict[str, list[Hit]]) -> None:
    """Each designation that starts with a name of four letters or more ("Smerch", "Kornet E", "Leopard 2A6")
    also under its Cyrillic spelling ("смерч", "корнет э", "леопард 2а6"; E of an export version written Э),
    as a namesake: written back in Russian the name is a word again (a tornado, a cornet; "Igla 1" would be a
    needle of 1 mm), so it counts only beside another cue. A name the lexicon itself doubts (weight under 0.6:
    "Kalibr", which is also the word for calibre) is not written back, and a spelling the lexicon already
    holds keeps its own entry."""
    for key, hits in list(terms.items()):
        tokens = key.split()
        named = [replace(hit, kind="namesake") for hit in hits if hit.kind in _DESIGNATION_KINDS and hit.weight >= 0.6]
        if not named or len(tokens[0]) < 4 or not tokens[0].isalpha() or not all(t.isascii() for t in tokens):
            continue
        variant = " ".join("э" if token == "e" else _to_cyrillic(token) for token in tokens)
        terms.setdefault(variant, named)


# How Arabic writes the Latin letters of a designation, by their names ("BTR-80" is "بي تي آر-80", "F-16"
# "إف-16"; B and P are both بي). Letters whose names are common Arabic words (E إي, L إل, N إن, O أو, V في:
# "in") are left out: a designation holding one is not written in Arabic letters.
_ARABIC_LETTER_NAMES = dict(zip(
    "abcdfghijkmpqrstuwxyz",
    ["إيه", "بي", "سي", "دي", "إف", "جي", "إتش", "آي", "جيه", "كي", "إم", "بي", "كيو", "آر", "إس", "تي", "يو",
     "دبليو", "إكس", "واي", "زد"],
    strict=True,
))  # fmt: skip
# Russian families Arabic writes by their syllables, not their letters ("ميغ-29", "سو-30", "مي-24")
_ARABIC_FAMILY_SPELLINGS = {"mig": ("ميغ", "ميج"), "su": ("سو", "سوخوي"), "mi": ("مي",), "ka": ("كا",), "yak": ("ياك",)}


def _add_arabic_letter_designations(terms: dict[str, list[Hit]]) -> None:
    """Each designation of short letter groups and a number, or of a few letters alone ("btr 80", "f 16", "mig
    29", "pkm"), also as Arabic writes it, the letters by their names or the family by its syllables ("بي تي آر
    80", "إف 16", "ميغ 29", "بي كي إم"); a spelling two designations of different arms would share (B and P are
    one letter in Arabic) is left out."""
    sources: list[str] = []
    spellings: list[str] = []
    for key, hits in terms.items():
        tokens = key.split()
        letters = [token for token in tokens if not token.isdigit()]
        initials = len(tokens) == 1 and len(key) >= 2  # letters alone ("pkm"); else a number must follow ("btr 80")
        if not any(hit.kind in _DESIGNATION_KINDS for hit in hits) or (len(letters) == len(tokens) and not initials):
            continue
        if not all(token.isascii() and len(token) <= 4 for token in letters):
            continue
        rest = [token if token.isdigit() else _arabic_letters(token) for token in tokens[1:]]
        for start in _ARABIC_FAMILY_SPELLINGS.get(tokens[0]) or [_arabic_letters(tokens[0])]:
            if start and all(rest):
                sources.append(key)
                spellings.append(" ".join([start, *rest]))
    by_spelling: dict[str, list[str]] = {}
    for key, spelling in zip(sources, normalize_text(spellings), strict=True):
        by_spelling.setdefault(spelling, []).append(key)
    for spelling, keys in by_spelling.items():
        found = [[hit for hit in terms[key] if hit.kind in _DESIGNATION_KINDS] for key in keys]
        if spelling not in terms and len({hit.alternatives for hits in found for hit in hits}) == 1:
            terms[spelling] = found[0]


def _arabic_letters(token: str) -> str | None:
    """A group of Latin letters by their Arabic names, or None when one of them has none here."""
    names = [_ARABIC_LETTER_NAMES.get(letter, "") for letter in token]
    return " ".join(names) if all(names) else None


def _family_prefix(tokens: list[str]) -> tuple[str, int] | None:
    """The family a designation's shape names and how many words that takes: "su 30 mki" → ("su", 1),
    "9 m 311" → ("9 m", 2); None for anything else (a single letter, as in "R 134a", names no family)."""
    if len(tokens) >= 2 and tokens[0].isalpha() and len(tokens[0]) >= 2 and tokens[1].isdigit():
        return tokens[0], 1
    grau = len(tokens) >= 3 and tokens[0].isdigit() and tokens[1].isalpha() and tokens[2].isdigit()
    if grau and len(tokens[0]) <= 2 and len(tokens[1]) <= 2:  # Russian GRAU indices: 9M311, 2S19
        return f"{tokens[0]} {tokens[1]}", 2
    return None


def _families(
    terms: dict[str, list[Hit]], negatives: dict[str, list[Lookalike]], kb: Knowledge
) -> dict[str, tuple[Hit, int, int]]:
    """Designation families whose listed members all name the same kind of arm (Su-: combat aircraft,
    BMP-: armoured combat vehicles), so that a member the lexicon does not list is that arm too. A family
    with a look-alike member (a transport aircraft, a civil helicopter) or members of different top-level
    categories is no evidence, and so is a number outside the range of the listed ones (the AK-630 naval
    gun is no Kalashnikov). Prefixes of three or more letters (BMP, BTR, MiG) are distinctive enough to
    name the arm alone; a two-letter one (Su, MP, SM) also abbreviates other things ("MP3", "SM 58"), and a
    prefix the lexicon lists as a namesake is an everyday word ("Arrow", "Fuchs"), so their unlisted members
    count as namesakes that need a second cue."""
    members: dict[str, list[Hit]] = {}
    numbers: dict[str, list[int]] = {}
    mixed: set[str] = set()
    for key, hits in terms.items():
        tokens = key.split()
        family = _family_prefix(tokens)
        if family is not None:
            members.setdefault(family[0], []).extend(hit for hit in hits if hit.kind in _DESIGNATION_KINDS)
            numbers.setdefault(family[0], []).append(int(tokens[family[1]]))
            if any(hit.kind not in _DESIGNATION_KINDS for hit in hits):
                mixed.add(family[0])
    mixed.update(family[0] for key in negatives if (family := _family_prefix(key.split())) is not None)
    families: dict[str, tuple[Hit, int, int]] = {}
    for prefix, hits in members.items():
        categories = {category for hit in hits for category in hit.alternatives}
        if prefix in mixed or len(hits) < _FAMILY_MIN_MEMBERS or len({kb.top_level(c) for c in categories}) != 1:
            continue
        shared = set.intersection(*(set(kb.ancestors(category)) for category in categories))
        deepest = max(shared, key=lambda category: len(kb.ancestors(category)))
        distinctive = (
            len(prefix) >= 3
            and " " not in prefix
            and all(hit.kind == "designation" for hit in hits)
            and not any(hit.kind == "namesake" for hit in terms.get(prefix, ()))  # "Barak", "Fuchs": a word
        )
        kind = "designation" if distinctive else "namesake"
        weight = float(np.median([hit.weight for hit in hits]))
        found = Hit(prefix, (deepest,), kind, weight, by_shape=True)
        families[prefix] = (found, min(numbers[prefix]), max(numbers[prefix]))
    return families


def lexicon_for(kb: Knowledge) -> Lexicon:
    """The compiled lexicon of a knowledge base: built once per compiled knowledge base and kept in the cache
    folder beside it, so a fresh process loads it."""
    return _compiled(kb)


def _plurals(words: str) -> tuple[str, ...]:
    """The forms with a plural ending :func:`_singulars` takes off, for words ending in a Latin letter (Cyrillic,
    Arabic and Chinese words take no "s")."""
    return (words + "s", words + "es") if words[-1] <= "\u024f" and words[-1].isalpha() else ()


def _singulars(token: str) -> list[str]:
    """Forms without a plural ending: "rifles" → rifle, "fusiles" → fusil, "canons" → canon."""
    forms = []
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        forms.append(token[:-1])
    if len(token) > 4 and token.endswith("es"):
        forms.append(token[:-2])
    return forms


def _placed(
    words: str, found: tuple[list[Hit], list[Lookalike]], position: int, lexicon: Lexicon
) -> tuple[list[Hit], list[Lookalike]]:
    """What ``words`` name (``found``), marked with the word they start at (remembered)."""
    placed = lexicon.placed.get((words, position))
    if placed is None:
        hits, lookalikes = found
        placed = lexicon.placed[words, position] = (
            [replace(hit, position=position) for hit in hits],
            [replace(lookalike, position=position) for lookalike in lookalikes],
        )
    return placed


def _named_by(
    words: str, terms: dict[str, list[Hit]], negatives: dict[str, list[Lookalike]]
) -> tuple[list[Hit], list[Lookalike]] | None:
    """What the words name, as written or with the last one without a plural ending."""
    head, _, last = words.rpartition(" ")
    for key in [words, *(f"{head} {form}" if head else form for form in _singulars(last))]:
        hits, lookalikes = terms.get(key), negatives.get(key)
        if hits or lookalikes:
            return hits or _NO_HITS, lookalikes or _NO_LOOKALIKES
    return None


_NO_HITS: list[Hit] = []  # shared by every run that names no arm (never changed): one object in the cache file
_NO_LOOKALIKES: list[Lookalike] = []


_HASH_BASE = 0x9E3779B97F4A7C15  # odd, so each word's number spreads over the hash of the words before it
_HASH_MASK = (1 << 64) - 1  # the hash wraps around at 64 bits, as numpy's uint64 arithmetic does


def _run_index(terms: dict[str, list[Hit]], negatives: dict[str, list[Lookalike]], words: set[str]) -> RunIndex:
    """The runs of words that name something: a text's run can only name something as itself or with its last
    word's plural ending removed (:func:`_named_by`), so each key, and each key + "s" and + "es" that ends in a
    Latin letter (:func:`_plurals`), is tried."""
    numbers = {word: number for number, word in enumerate(sorted(words), start=1)}
    found = {}
    shared: dict[tuple[int, int], tuple[list[Hit], list[Lookalike]]] = {}  # one pair object however many runs
    for key in [*terms, *negatives]:
        for run in (key, *_plurals(key)):
            named = _named_by(run, terms, negatives)
            if named is not None:
                found[run] = shared.setdefault((id(named[0]), id(named[1])), named)
    hashes = np.unique(np.array([_run_hash([numbers[w] for w in run.split()]) for run in found], dtype=np.uint64))
    return RunIndex(found, numbers, hashes, max((len(run.split()) for run in found), default=0))


def _run_hash(numbers: list[int]) -> int:
    hashed = 0
    for number in numbers:
        hashed = (hashed * _HASH_BASE + number) & _HASH_MASK
    return hashed


def _precedence(span: tuple[int, int, list[Hit], list[Lookalike]], spans: list) -> tuple[int, int, int, int, int]:
    position, size, hits, lookalikes = span
    names_an_arm = any(hit.kind in ("term", "designation", "namesake") for hit in hits)
    inside = any(p <= position and position + size <= p + s and s > size for p, s, _, _ in spans)
    return (inside, not lookalikes, not names_an_arm, -(position + size), -size)


def _reach(token: str, lexicon: Lexicon) -> int:
    """The most words of a key that may start at ``token`` (as written or without a plural ending)."""
    found = lexicon.reach.get(token)
    if found is None:
        found = lexicon.reach[token] = max(lexicon.longest.get(form, 0) for form in [token, *_singulars(token)])
    return found


def _by_shape(tokens: list[str], position: int, lexicon: Lexicon) -> tuple[int, list[Hit]] | None:
    """An unlisted designation of a listed family starting at ``position`` ("su 35"): its size and hit."""
    family = _family_prefix(tokens[position : position + 3])
    if family is None or family[0] not in lexicon.families:
        return None
    found, lowest, highest = lexicon.families[family[0]]
    size = family[1] + 1
    if not lowest <= int(tokens[position + family[1]]) <= highest:
        return None
    return size, [replace(found, term="-".join(tokens[position : position + size]).upper())]


def _scan(
    tokens: list[str], runs: list[tuple[int, int]], lexicon: Lexicon, fuzzy: dict[str, str]
) -> tuple[list[Hit], list[Lookalike], bool]:
    """Exact matching of a text's ``runs`` of words (position, size) that may name something, else a
    designation of a known family by its shape; then single words that are a typo of a lexicon word
    (discounted by their likeness). Of two overlapping keys the one holding the other wins ("anti-tank
    missile" over "tank", "toy tank" over "tank", "anti-radar missile" over "radar"), then a look-alike, then
    an arm over a part or munition word ("40 mm grenade launchers" is a launcher, "hunting rifle bolt action"
    a rifle), then the one ending later (the head of a phrase comes last); a shorter key at the same word
    takes the words a losing longer one leaves ("armed" of "(armed) trainer aircraft"). Last, whether there
    are findings and they take every word of the form but numbers and short letter codes ("piranha", not
    "puma shoes")."""
    spans: list[tuple[int, int, list[Hit], list[Lookalike]]] = []
    longest_at: dict[int, int] = {}
    for position, size in runs:
        words = " ".join(tokens[position : position + size])
        found = lexicon.runs.found.get(words)  # None: another run with the same hash
        if found is not None:
            spans.append((position, size, *_placed(words, found, position, lexicon)))
            longest_at[position] = max(longest_at.get(position, 0), size)
    for position, token in enumerate(tokens):
        shaped = _by_shape(tokens, position, lexicon) if token in lexicon.family_starts else None
        if shaped and shaped[0] > longest_at.get(position, 0):  # "BTR-82", not "BTR"
            spans.append((position, shaped[0], [replace(hit, position=position) for hit in shaped[1]], []))
    used = [False] * len(tokens)
    chosen = []
    for position, size, hits, lookalikes in sorted(spans, key=lambda span: _precedence(span, spans)):
        if not any(used[position : position + size]):
            used[position : position + size] = [True] * size
            chosen.append((position, hits, lookalikes))
    chosen.sort(key=lambda span: span[0])
    hits = [hit for _, found, _ in chosen for hit in found]
    lookalikes = [lookalike for _, _, found in chosen for lookalike in found]
    for position, word in enumerate(tokens):
        if not used[position] and (key := fuzzy.get(word)):
            score = float(fuzz.ratio(word, key))
            hits.extend(replace(hit, fuzzy=score, position=position) for hit in lexicon.terms.get(key, []))
            lookalikes.extend(lexicon.negatives.get(key, []))
            used[position] = True
    whole = bool(hits) and all(taken or not _names_something(word) for taken, word in zip(used, tokens, strict=True))
    return hits, lookalikes, whole


def _names_something(word: str) -> bool:
    """A word that may say what goods are: three Latin letters or more, or letters of another script (a
    Chinese character is a word); not a number, a gap or a code of one or two letters ("AV", "M" of "M-36")."""
    return word.isalpha() and (len(word) >= _OTHER_WORD_LETTERS or not word.isascii())


def _scan_forms(
    forms: list[str], lexicon: Lexicon, fuzzy: dict[str, str]
) -> list[tuple[list[Hit], list[Lookalike], bool]]:
    """:func:`_scan` of many reduced forms at once. The runs of words that may name something are found for
    all forms together with numpy (:func:`_runs`); only the forms with such a run, a word starting a
    designation family or a typo are read word by word — the others name nothing."""
    tokens = pc.split_pattern(pa.array(forms, pa.string()), " ")
    offsets = tokens.offsets.to_numpy().astype(np.int64)
    encoded = pc.dictionary_encode(tokens.values)
    words = encoded.dictionary.to_pylist()
    word_at = encoded.indices.to_numpy(zero_copy_only=False)
    numbers = np.array([lexicon.runs.numbers.get(word, 0) for word in words], dtype=np.uint64)[word_at]
    reach = np.array([_reach(word, lexicon) for word in words], dtype=np.int64)[word_at]
    marked = np.array([word in lexicon.family_starts or word in fuzzy for word in words], dtype=bool)[word_at]
    form_of = np.repeat(np.arange(len(forms)), np.diff(offsets))
    starts, sizes = _runs(numbers, reach, offsets[1:][form_of], lexicon.runs)
    order = np.lexsort((-sizes, starts))  # by position, longest first
    starts, sizes = starts[order], sizes[order]
    run_forms = form_of[starts]
    read = np.union1d(run_forms, form_of[marked])
    first_run = np.searchsorted(run_forms, read)
    last_run = np.searchsorted(run_forms, read, side="right")
    found: list[tuple[list[Hit], list[Lookalike], bool]] = [([], [], False)] * len(forms)
    for form, first, last in zip(read.tolist(), first_run.tolist(), last_run.tolist(), strict=True):
        base = int(offsets[form])
        runs = list(zip((starts[first:last] - base).tolist(), sizes[first:last].tolist(), strict=True))
        found[form] = _scan(forms[form].split(" "), runs, lexicon, fuzzy)
    return found


def _runs(
    numbers: np.ndarray, reach: np.ndarray, ends: np.ndarray, index: RunIndex
) -> tuple[np.ndarray, np.ndarray]:
    """Where runs of words whose hash is that of a run naming something start, and how many words they have:
    ``numbers`` of the words of many texts one after another, ``reach`` the most words a key starting at each
    may have, ``ends`` where each word's text ends."""
    starts = np.flatnonzero(reach > 0)
    hashes = np.zeros(len(starts), dtype=np.uint64)
    found_starts, found_sizes = [], []
    for size in range(1, index.longest + 1):
        last = starts + size - 1
        alive = (reach[starts] >= size) & (last < ends[starts])
        starts, hashes, last = starts[alive], hashes[alive], last[alive]
        word = numbers[last]
        alive = word > 0  # a word of no key: no run through it names anything
        starts, hashes, word = starts[alive], hashes[alive], word[alive]
        if not len(starts):
            break
        hashes = hashes * np.uint64(_HASH_BASE) + word
        slot = np.minimum(np.searchsorted(index.hashes, hashes), len(index.hashes) - 1)
        named = index.hashes[slot] == hashes
        found_starts.append(starts[named])
        found_sizes.append(np.full(int(named.sum()), size, dtype=np.int64))
    if not found_starts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(found_starts), np.concatenate(found_sizes)


_NUMBER = r"(?<![\d.,])((?:\d{1,3}(?:[ ,.]\d{3})+|\d+)(?:[.,]\d+)?)"
# A cartridge is calibre × case length, both in mm ("7.62x39", "9x19", "30x173"); a count of barrels comes before
# the calibre instead ("2 x 23 mm"): a cartridge's calibre is 4 mm or more and shorter than its case
_CARTRIDGE = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d{1,2})?)\s*[x×х]\s*(\d{2,3})(?![\d.,]\d)")  # х: Cyrillic
# Units, as the lexicon's languages write them; the number readers below and :data:`_HAS_NUMBER_WITH_UNIT`, which
# picks the texts worth reading, are built from the same spellings. A unit's letters just before a number are a
# designation's ("5 T-72" are five T-72s, not 5 t; "2 MM-40" two Exocets); Chinese units (毫米 mm, 吨 t, 公里 and 千米
# km) are followed by the next word without a space (no \b).
_MM = "mm|мм|مم|ملم"
_KM = "km|км|كم"
_TONNE_WORDS = "tonnes?|tons?|tonnen|toneladas?|tonnellat[ae]|tony?|tm|тонн[а-яё]*|طن|أطنان"  # and t, т alone
_TONNE_QUALIFIERS = r"(?:(?:gross|metric|construction|displacement)\s+)*"
_MILLIMETRES = re.compile(  # "7mm-08" (a cartridge) is 7 mm: only letters apart from the number can be a designation's
    r"(?<![\d.,])(\d{1,3}(?:[.,]\d{1,2})?)"
    + rf"(?:-?(?:{_MM})\b|\s+-?\s*(?:{_MM})(?!-?\d)\b|\s*毫米)"
)
_CALIBRE_INCH = re.compile(
    r"\b[ck]al(?:ibre|iber|\.)?\s*(\.\d{2,3}|0[.,]\d{2,3})\b"  # "cal .50", "calibre 0.308", "Kaliber .308"
    r"|(?<![\d.,])(\.\d{2,3}|0[.,]\d{2,3})\s*[ck]al(?:ibre|iber)?\b"  # ".50 cal"
)
_TONNES = re.compile(_NUMBER + rf"\s*(?:{_TONNE_QUALIFIERS}(?:[tт](?!-?\d)|{_TONNE_WORDS})\b|吨)")
_KILOMETRES = re.compile(_NUMBER + rf"\s*(?:(?:{_KM})(?!-?\d)\b|公里|千米)")


# A number after words of an exclusive upper bound ("mortars of calibres less than 75 mm", "moins de 500 t") is no
# value the goods can have: the readers take the next number, or none. Other bounds are values the goods may have
# ("not exceeding 150 tons", "more than 12.7 mm" read as 150 t and 12.7 mm judge the thresholds alike).
_BELOW = re.compile(
    r"(?:less than|fewer than|under|below|moins de|inf[ée]rieure?s? [àa]|menos de|inferior(?:es)? a|unter|weniger als"
    r"|kleiner als|meno di|inferiori? a|minder dan|kleiner dan|poniżej|mniej niż|менее|меньше|ниже|أقل من|小于|<)\s*$"
)


def _first_value(pattern: re.Pattern[str], lowered: str) -> float | None:
    """The first number ``pattern`` reads (its group 1) that no exclusive upper bound comes before."""
    for match in pattern.finditer(lowered):
        if not _BELOW.search(lowered[max(0, match.start() - 20) : match.start()]):
            return _to_float(match.group(1))
    return None


def _to_float(text: str) -> float | None:
    cleaned = text.replace(" ", "")
    if re.fullmatch(r"[1-9]\d{0,2}([.,]\d{3})+", cleaned):  # thousands separators ("0.308" is an inch calibre)
        cleaned = re.sub(r"[.,]", "", cleaned)
    try:
        return float(cleaned.replace(",", "."))
    except ValueError:
        return None


def _cartridge_calibre(lowered: str) -> float | None:
    for match in _CARTRIDGE.finditer(lowered):
        calibre, case = _to_float(match.group(1)), float(match.group(2))
        if calibre is not None and 4 <= calibre < case:
            return calibre
    return None


def _millimetres(lowered: str) -> float | None:
    return _first_value(_MILLIMETRES, lowered)


def _inch_calibre(lowered: str) -> float | None:
    if not (match := _CALIBRE_INCH.search(lowered)):
        return None
    inches = _to_float("0" + (match.group(1) or match.group(2)).lstrip("0"))  # ".50", "0.308", "0,50"
    return round(inches * 25.4, 1) if inches is not None else None


@lru_cache(maxsize=1 << 16)  # a text with a number and a unit comes back in chunk after chunk
def extract_numbers(text: str) -> tuple[float | None, float | None, float | None]:
    """Calibre (mm), mass or displacement (t) and range (km) written in a description, if any."""
    lowered = text.lower()
    calibre = _cartridge_calibre(lowered) or _millimetres(lowered) or _inch_calibre(lowered)
    tonnes = _first_value(_TONNES, lowered)
    range_km = _first_value(_KILOMETRES, lowered)
    return calibre, tonnes, range_km


_END_OF_WORD = r"(?:$|[^\pL\pN_])"  # RE2's \b knows only ASCII letters: "120 мм" would not end a word
_HAS_NUMBER_WITH_UNIT = (
    rf"\pN\s*-?\s*{_TONNE_QUALIFIERS}(?:{_MM}|{_KM}|t|т|{_TONNE_WORDS}){_END_OF_WORD}"  # \pN: any script's digits
    rf"|\d[.,]\d+\s*[x×х]\s*\d|(?:^|[^\pL\pN_])[ck]al(?:ibre|iber)?{_END_OF_WORD}"
    r"|\d\s*(?:毫米|公里|千米|吨)"  # Chinese units, written without a space before the next word
)


_GAP = "_"
_SCAN_CACHE_LIMIT = 200_000  # reduced forms whose evidence is remembered (and with them the placed findings)


@dataclass(frozen=True)
class TextAnalysis:
    """The evidence of a list of texts: ``ids[i]`` indexes the distinct ``evidence`` of text ``i``, and
    ``evidence[0]`` is ``NO_EVIDENCE``, so texts are grouped by what they say before anything is decided."""

    ids: np.ndarray
    evidence: list[TextEvidence]
    generation: int  # of the ids (:class:`AnalysedTexts`)


_ANALYSED_LIMIT = 500_000  # distinct texts a lexicon remembers the evidence of
_ANALYSED_LOCK = threading.Lock()


def analyse_texts(texts: pa.Array | pd.Series | pd.Index | list[str], kb: Knowledge) -> TextAnalysis:
    """The evidence of each of a list of texts (a whole column: each distinct text is analysed once).

    Whole-column Arrow operations reduce every text to the words a match can use (the others become a gap),
    so texts that differ only in lot numbers or packaging share one reduced form, scanned once; only texts
    with a number and a unit are read one by one, for the numbers. A description chain ("heading >
    subheading > line") is read as its segments, each found once however many chains share it. A text's
    evidence depends on nothing but the text, so the lexicon remembers it: a text seen in an earlier chunk is
    looked up (one hash join of the list's distinct texts), and the evidence of every call indexes one growing
    list.
    """
    lexicon = lexicon_for(kb)
    raw = as_text_array(texts)
    with _ANALYSED_LOCK:  # chunks may be analysed in several threads
        seen = lexicon.analysed
        if len(seen.texts) > _ANALYSED_LIMIT:
            seen.forget()
        encoded = pc.dictionary_encode(raw)  # a text repeated is looked up and analysed once
        distinct = encoded.dictionary
        # the texts seen before are probed against the chunk's distinct texts: the hash table is built over
        # the smaller side, never over everything seen so far
        in_chunk = pc.index_in(seen.texts, value_set=distinct)
        met = np.flatnonzero(in_chunk.is_valid().to_numpy(zero_copy_only=False))
        position = np.full(len(distinct), -1, dtype=np.int64)
        position[pc.take(in_chunk, met).to_numpy()] = met
        fresh = np.flatnonzero(position < 0)
        if len(fresh):
            new_texts = pc.take(distinct, pa.array(fresh))
            position[fresh] = len(seen.ids) + np.arange(len(fresh))
            seen.ids = np.concatenate([seen.ids, _analyse_new(new_texts, lexicon, seen)])
            seen.texts = pa.concat_arrays([seen.texts, new_texts])
        ids = seen.ids[position[encoded.indices.to_numpy(zero_copy_only=False)]]
        return TextAnalysis(ids, seen.evidence, seen.generation)


def _analyse_new(raw: pa.Array, lexicon: Lexicon, seen: AnalysedTexts) -> np.ndarray:
    """:func:`analyse_texts` for texts not analysed before: the id of each one's evidence in ``seen``."""
    raw = readable(raw)
    chained = pc.match_substring(raw, _CHAIN).to_numpy(zero_copy_only=False)
    if not chained.any():
        return _analyse_plain(raw, lexicon, seen)
    chain_rows = np.flatnonzero(chained)
    ids = _analyse_plain(pc.if_else(pa.array(chained), "", raw), lexicon, seen)
    segments = pc.split_pattern(pc.take(raw, pa.array(chain_rows)), _CHAIN)
    segment_ids, distinct = pd.factorize(pd.Series(segments.flatten().to_numpy(zero_copy_only=False)))
    found = _analyse_plain(as_text_array(distinct), lexicon, seen)
    offsets = segments.offsets.to_numpy()
    for row, start, stop in zip(chain_rows.tolist(), offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
        chain = _chain_evidence([seen.evidence[found[segment]] for segment in segment_ids[start:stop]])
        if chain.hits or chain.lookalikes or chain.calibre_mm or chain.tonnes or chain.range_km:
            ids[row] = seen.intern(chain)
    return ids


def _chain_evidence(parts: list[TextEvidence]) -> TextEvidence:
    """One description chain's evidence from its segments' (root first): each finding marked with how many
    segments above the line's own text it stands, each number taken from the deepest segment giving it."""
    hits, lookalikes = [], []
    for depth, part in enumerate(reversed(parts)):
        hits.extend(replace(hit, segment=depth) for hit in part.hits)
        lookalikes.extend(replace(lookalike, segment=depth) for lookalike in part.lookalikes)
    numbers = [
        next((value for value in values if value is not None), None)
        for values in zip(*((p.calibre_mm, p.tonnes, p.range_km) for p in reversed(parts)), strict=True)
    ]
    return TextEvidence(hits, lookalikes, *numbers)


def _analyse_plain(raw: pa.Array, lexicon: Lexicon, seen: AnalysedTexts) -> np.ndarray:
    """:func:`_analyse_new` for texts that are not chains."""
    tokens = tokenize(pc.replace_substring_regex(raw, _UNIT_BETWEEN_NUMBERS, r"\1\2"))
    encoded_tokens = pc.dictionary_encode(tokens.values)  # the texts' words, each looked at once
    words, word_ids = encoded_tokens.dictionary, encoded_tokens.indices.to_numpy(zero_copy_only=False)
    fuzzy = _fuzzy_words(words, lexicon)
    in_longer_keys = {
        typo: word for typo, word in fuzzy.items() if word not in lexicon.terms and word not in lexicon.negatives
    }
    if in_longer_keys:  # "iinfantry fighting vehicle": the typo is read as the word, and the longer key is found
        words = _corrected(words, in_longer_keys)
        fuzzy = {typo: key for typo, key in fuzzy.items() if typo not in in_longer_keys}
    usable = pc.is_in(words, value_set=lexicon.words)
    if fuzzy:
        usable = pc.or_(usable, pc.is_in(words, value_set=pa.array(list(fuzzy), type=words.type)))
    relevant = usable.to_numpy(zero_copy_only=False)[word_ids]
    offsets = tokens.offsets.to_numpy()
    parents = np.repeat(np.arange(len(raw)), np.diff(offsets))
    if len(lexicon.family_ends):  # the number of a designation by shape ("su 35") is part of the match
        digits = pc.utf8_is_digit(words).to_numpy(zero_copy_only=False)[word_ids]
        ends_family = pc.is_in(words, value_set=lexicon.family_ends).to_numpy(zero_copy_only=False)[word_ids]
        relevant[1:] |= digits[1:] & ends_family[:-1] & (parents[1:] == parents[:-1])
    numbered = np.flatnonzero(
        pc.match_substring_regex(raw, _HAS_NUMBER_WITH_UNIT, ignore_case=True).to_numpy(zero_copy_only=False)
    )
    looked_at = np.zeros(len(raw), dtype=bool)
    looked_at[parents[relevant]] = True
    looked_at[numbered] = True
    candidates = np.flatnonzero(looked_at)
    keys = _reduced_forms(words, word_ids, relevant, offsets, parents, looked_at)
    encoded = pc.dictionary_encode(keys)

    if len(seen.forms) > _SCAN_CACHE_LIMIT:
        seen.forms.clear()
        lexicon.placed.clear()
    forms = encoded.dictionary.to_pylist()
    new = [form for form in forms if form not in seen.forms]
    for form, (hits, lookalikes, whole) in zip(new, _scan_forms(new, lexicon, fuzzy), strict=True):
        bare = whole and any(hit.kind == "namesake" and hit.term.lower() not in tariff_words() for hit in hits)
        seen.forms[form] = seen.intern(TextEvidence(hits, lookalikes, bare=bare)) if hits or lookalikes else 0
    form_evidence = np.array([seen.forms[form] for form in forms], dtype=np.int64)
    key_ids = encoded.indices.to_numpy(zero_copy_only=False)
    ids = np.zeros(len(raw), dtype=np.int64)
    ids[candidates] = form_evidence[key_ids]

    with_numbers: dict[tuple, int] = {}
    texts = pc.take(raw, numbered).to_pylist()
    for row, words_found, text in zip(numbered.tolist(), ids[numbered].tolist(), texts, strict=True):
        numbers = extract_numbers(text)
        if numbers == (None, None, None):
            continue
        if (words_found, numbers) not in with_numbers:
            found = seen.evidence[words_found]
            calibre_mm, tonnes, range_km = numbers
            numbered_found = replace(found, calibre_mm=calibre_mm, tonnes=tonnes, range_km=range_km)
            with_numbers[words_found, numbers] = seen.intern(numbered_found)
        ids[row] = with_numbers[words_found, numbers]

    # a bare namesake's form may have left out words of the text the lexicon does not know ("PUMA SHOES"): the
    # words _names_something counts, found for the whole column at once
    worded = pc.or_(pc.greater_equal(pc.utf8_length(words), _OTHER_WORD_LETTERS), pc.invert(pc.string_is_ascii(words)))
    other_words = pc.and_(pc.and_(pc.invert(usable), pc.utf8_is_alpha(words)), worded)
    said_more = np.zeros(len(raw), dtype=bool)
    said_more[parents[other_words.to_numpy(zero_copy_only=False)[word_ids]]] = True
    rows = np.flatnonzero(said_more & (ids != 0))
    if len(rows):
        found_ids, which = np.unique(ids[rows], return_inverse=True)
        ids[rows] = np.array([_not_bare(found, seen) for found in found_ids.tolist()], dtype=np.int64)[which]
    return ids


def _not_bare(found: int, seen: AnalysedTexts) -> int:
    """The id of evidence ``found`` as it is for a text with more words than its reduced form shows."""
    evidence = seen.evidence[found]
    return seen.intern(replace(evidence, bare=False)) if evidence.bare else found


def _corrected(words: pa.Array, corrections: dict[str, str]) -> pa.Array:
    """``words`` with each typo of ``corrections`` replaced by its word."""
    typos = pc.is_in(words, value_set=pa.array(list(corrections), type=words.type))
    found = pc.filter(words, typos).to_pylist()
    return pc.replace_with_mask(words, typos, pa.array([corrections[typo] for typo in found], type=words.type))


def _reduced_forms(
    words: pa.Array,
    word_ids: np.ndarray,
    relevant: np.ndarray,
    offsets: np.ndarray,
    parents: np.ndarray,
    texts: np.ndarray,
) -> pa.Array:
    """The reduced form of each text ``texts`` selects: its usable words in order, any run of other words
    as one gap (``rifle _ 7 62 mm _``)."""
    starts_text = np.zeros(len(parents), dtype=bool)
    starts_text[offsets[:-1][offsets[:-1] < offsets[1:]]] = True
    after_gap = np.zeros(len(parents), dtype=bool)
    after_gap[1:] = ~relevant[:-1]
    kept = texts[parents] & (relevant | starts_text | ~after_gap)
    gap = len(words)
    values = pa.DictionaryArray.from_arrays(
        pa.array(np.where(relevant, word_ids, gap)[kept], type=pa.int32()),
        pa.concat_arrays([words.cast(pa.string()), pa.array([_GAP], pa.string())]),
    ).cast(pa.string())
    counts = np.bincount(parents[kept], minlength=len(texts))[texts]
    list_offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=list_offsets[1:])
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(list_offsets), values), " ")


@cache
def _tariff_words_array() -> pa.Array:
    return pa.array(sorted(tariff_words()), type=pa.string())


def _fuzzy_words(words: pa.Array, lexicon: Lexicon) -> dict[str, str]:
    """Distinct words of the texts that are a typo of a lexicon word, remembered across chunks.

    Only words that are neither lexicon words nor HS wording are scored, with rapidfuzz in parallel
    chunks; a close word counts as a typo only if it starts as the lexicon word does (a different first
    letter or two changes the meaning: "airplanes", "Singer") and is not itself a word of the languages the
    lexicon word is written in ("airplanes" is English for aeroplanes, not a typo of "warplanes").
    """
    words = words.cast(pa.string())
    keep = pc.and_(pc.greater_equal(pc.utf8_length(words), _FUZZY_MIN_CHARS), pc.utf8_is_alpha(words))
    keep = pc.and_(keep, pc.invert(pc.is_in(words, value_set=lexicon.words)))
    keep = pc.and_(keep, pc.invert(pc.is_in(words, value_set=_tariff_words_array())))
    words = pc.filter(words, keep)
    seen = pa.concat_arrays(lexicon.fuzzy_seen) if lexicon.fuzzy_seen else pa.array([], pa.string())
    fresh = pc.filter(words, pc.invert(pc.is_in(words, value_set=seen))).to_pylist()
    choices = lexicon.fuzzy_keys
    candidates = _alike_a_key_of_their_start(fresh, choices)
    for start in range(0, len(candidates), _FUZZY_CHUNK):
        chunk = candidates[start : start + _FUZZY_CHUNK]
        scores = process.cdist(
            chunk, choices, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF_LONG, dtype=np.float32, workers=-1
        )
        best = scores.argmax(axis=1)
        for row in np.flatnonzero(scores[np.arange(len(chunk)), best] >= _FUZZY_CUTOFF_LONG).tolist():
            word, key = chunk[row], choices[best[row]]
            cutoff = _FUZZY_CUTOFF_SHORT if len(word) < 8 else _FUZZY_CUTOFF_LONG
            if scores[row, best[row]] >= cutoff and _is_typo(word, key, lexicon):
                lexicon.fuzzy_cache[word] = key
    if fresh:
        lexicon.fuzzy_seen[:] = [pa.concat_arrays([seen, pa.array(fresh, type=pa.string())])]
    if not lexicon.fuzzy_cache:
        return {}
    typos = pc.filter(words, pc.is_in(words, value_set=pa.array(list(lexicon.fuzzy_cache), type=pa.string())))
    return {word: lexicon.fuzzy_cache[word] for word in typos.to_pylist()}


def _alike_a_key_of_their_start(words: list[str], keys: list[str]) -> list[str]:
    """The words at least ``_FUZZY_CUTOFF_LONG`` alike a key that starts as they do: the only ones that can be
    a typo (:func:`_is_typo`), so only they are scored against every key."""
    alike = _close_to_a_key_of_their_start(words, keys, _FUZZY_CUTOFF_LONG)
    return [word for word in words if word in alike]


def _close_to_a_key_of_their_start(words: Iterable[str], keys: Iterable[str], cutoff: float) -> set[str]:
    """The words at least ``cutoff`` alike a key with the same first letters (``_FUZZY_SAME_START``): each word
    is scored against the few keys of its own start, a fraction of the work of scoring it against all."""
    keys_by_start = _by_start(keys)
    found: set[str] = set()
    for start, group in _by_start(words).items():
        if start in keys_by_start:
            scores = process.cdist(
                group, keys_by_start[start], scorer=fuzz.ratio, score_cutoff=cutoff, dtype=np.float32
            )
            found.update(word for word, close in zip(group, scores.max(axis=1) >= cutoff, strict=True) if close)
    return found


def _by_start(words: Iterable[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for word in words:
        grouped.setdefault(_start(word), []).append(word)
    return grouped


def _start(word: str) -> str:
    """The first letters a typo keeps, a first letter typed twice taken once ("iinfantry": "in")."""
    return word[1 : _FUZZY_SAME_START + 1] if word[:1] == word[1:2] else word[:_FUZZY_SAME_START]


def _is_typo(word: str, key: str, lexicon: Lexicon) -> bool:
    """Whether a word at least ``_FUZZY_CUTOFF_LONG`` alike a fuzzy key is a typo of it."""
    if _start(word) != _start(key):
        return False
    return not any(word in _real_words(lang, lexicon) for lang in lexicon.languages.get(key, LANGUAGES))


def _real_words(lang: str, lexicon: Lexicon) -> frozenset[str]:
    """The words of a language's general word list that a typo test can meet: those that start as a fuzzy key
    does and are about as alike it as a typo is. The same answers as the whole list for such words, in a few
    hundred words instead of up to 375,000: kept per lexicon in the cache folder, read once per process."""
    found = lexicon.real_words.get(lang)
    if found is None:
        with _REAL_WORDS_LOCK:  # chunks are analysed in threads: build each once
            found = lexicon.real_words.get(lang)
            if found is None:
                build = partial(_words_like_keys, lang, lexicon)
                if lexicon.cache_key:
                    inputs = [lexicon.cache_key.encode(), lang.encode()]
                    found = cached_build(f"real-words-{lang}", inputs, ["pyspellchecker"], build, frozenset)
                else:
                    found = build()
                lexicon.real_words[lang] = found
    return found


def _words_like_keys(lang: str, lexicon: Lexicon) -> frozenset[str]:
    starts = {_start(key) for key in lexicon.fuzzy_keys}
    words = [
        word
        for batch in general_word_batches(lang, _FUZZY_MIN_CHARS)
        for word in batch
        if _start(word) in starts  # no other word is scored (and few are kept meanwhile)
    ]
    return frozenset(_close_to_a_key_of_their_start(words, lexicon.fuzzy_keys, _REAL_WORD_CUTOFF))
