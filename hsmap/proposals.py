"""HS amendment proposals that give ATT Art. 2(1) items codes of their own: the file format, the checks a
drafting officer relies on, the correlation they imply, and the evidence declaration data gives for them.

A proposal (``mappings/proposals/*.yaml``, format in ``mappings/README.md``) replaces current subheadings
of one HS edition with new ones, written as the HS writes them: in text order, each line with its
indentation (one dash or two) and, for lines that are subheadings, a six-digit code. Text lines without a
code (``- Helicopters:``) head the two-dash subheadings below them. Each new subheading names the ATT
categories it isolates (all of the category that sat under the replaced codes goes there, and the text is
built on its UN Register definition) and those it merely holds (shared with other goods or siblings).

:func:`validate_proposal` returns every problem at once, each with the code and the rule it breaks, because
a draft is fixed in one sitting, not one error per run. :func:`compute_evidence` counts how many
declaration lines, items and how much value each proposed subheading would have received.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from hsmap.codes import normalize_codes
from hsmap.columns import detect_columns, find_column
from hsmap.errors import InputError
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.lookup import COMTRADE_EDITION, categories_for_code, describe_code, known_in_edition

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Severity = Literal["error", "warning"]
_HS6 = re.compile(r"^\d{4}\.\d{2}$")
_ID = r"^[a-z0-9][a-z0-9_-]*$"


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class CurrentCode(_Item):
    """A subheading of the base edition that the amendment deletes; ``text`` defaults to our description."""

    code: NonEmpty
    text: str = ""


class NewLine(_Item):
    """One line of the proposed text: a subheading (with ``code``) or a text line heading two-dash ones."""

    code: str | None = None
    level: int
    text: NonEmpty
    isolates: list[NonEmpty] = []
    holds: list[NonEmpty] = []
    residual: bool = False
    definition: str = ""
    decidable: Literal["yes", "partly", "no"] = "yes"
    note: str = ""

    @field_validator("code", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None

    @property
    def label(self) -> str:
        return self.code or f"'{self.text}'"


class Link(_Item):
    """Correlation: where the goods of one current subheading go among the proposed ones."""

    from_code: NonEmpty = Field(alias="from")
    to: list[NonEmpty] = Field(min_length=1)
    note: str = ""


class Amendment(_Item):
    """Current subheadings of one heading, deleted together, and the lines that replace them."""

    replaces: list[CurrentCode] = Field(min_length=1)
    heading_text: str = ""
    lines: list[NewLine] = Field(min_length=1)
    correlation: list[Link] = []
    subheading_notes: list[str] = []
    justification: str = ""
    notes: list[str] = []

    @property
    def heading(self) -> str:
        return self.replaces[0].code[:4]

    @property
    def current_codes(self) -> list[str]:
        return [current.code for current in self.replaces]

    @property
    def subheadings(self) -> list[NewLine]:
        return [line for line in self.lines if line.code]


class Proposal(_Item):
    """A set of amendments to one HS edition, with who prepared it and what it claims to isolate."""

    id: Annotated[str, StringConstraints(pattern=_ID)]
    title: NonEmpty
    status: Literal["draft", "adopted"]
    prepared_by: NonEmpty
    disclaimer: str = ""
    base_edition: int
    target: NonEmpty
    summary: str = ""
    isolates: list[NonEmpty] = []
    amendments: list[Amendment] = Field(min_length=1)
    notes: list[str] = []
    source: NonEmpty

    @property
    def subheadings(self) -> list[NewLine]:
        return [line for amendment in self.amendments for line in amendment.subheadings]


@dataclass(frozen=True)
class Problem:
    """One broken rule: the code (or category) concerned, the rule's name, and what to fix."""

    code: str
    rule: str
    message: str
    severity: Severity = "error"


# --- loading ---------------------------------------------------------------------------------------


def proposals_folder(kb: Knowledge | None = None) -> Path:
    return (kb or load_knowledge()).root / "proposals"


def shipped_proposals(kb: Knowledge | None = None) -> list[Path]:
    """The proposal files shipped in ``mappings/proposals/``, by name."""
    return sorted(proposals_folder(kb).glob("*.yaml"))


def find_proposal(name: str | Path, kb: Knowledge | None = None) -> Path:
    """A proposal file: a path to a .yaml, or the file name (without .yaml) of a shipped one."""
    path = Path(name)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise InputError(str(path), None, None, "file not found")
        return path
    shipped = shipped_proposals(kb)
    for candidate in shipped:
        if candidate.stem == str(name) or candidate.stem.replace("_", "-") == str(name):
            return candidate
    known = ", ".join(candidate.stem for candidate in shipped) or "none"
    raise InputError(None, None, None, f"no proposal named {str(name)!r} (shipped: {known}; or give a .yaml file)")


def load_proposal(name: str | Path, kb: Knowledge | None = None) -> Proposal:
    """Read and type-check a proposal; a missing or mistyped field fails with its path in the file.

    Every scalar is read as text (YAML would turn ``8710.00`` into the number 8710.0), then typed by the model.
    """
    path = find_proposal(name, kb)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise InputError(str(path), None if mark is None else mark.line + 1, None, "not valid YAML") from None
    if not isinstance(data, dict):
        raise InputError(str(path), None, None, "a proposal is a mapping with id, title, amendments …")
    try:
        return Proposal.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(str(path), None, where or None, first["msg"]) from None


# --- validation ------------------------------------------------------------------------------------


@dataclass
class _Node:
    line: NewLine
    children: list[_Node] = field(default_factory=list)


def _tree(amendment: Amendment, problems: list[Problem]) -> list[_Node]:
    """The lines as the HS nests them: one-dash lines on top, two-dash ones under the text line above."""
    top: list[_Node] = []
    for line in amendment.lines:
        if line.level not in (1, 2):
            problems.append(Problem(line.label, "level", f"level {line.level}: HS six digits allow 1 or 2 dashes"))
            continue
        if line.level == 2 and not line.code:
            problems.append(Problem(line.label, "level", "a two-dash line needs a code (six digits hold two levels)"))
            continue
        if line.level == 1:
            top.append(_Node(line))
        elif top and not top[-1].line.code:
            top[-1].children.append(_Node(line))
        else:
            problems.append(
                Problem(line.label, "level", "a two-dash subheading must follow a one-dash text line without code")
            )
    return top


def _group(code: str) -> str:
    """The five-digit subheading a code belongs to: ``8802.1`` for 8802.11, ``8710`` for 8710.00."""
    return code[:4] if code.endswith(".00") else code[:6]


def current_level(code: str) -> int:
    """Indentation of a current code: 0 for an undivided heading (.00), 1 for a one-dash one, else 2."""
    if code.endswith(".00"):
        return 0
    return 1 if code.endswith("0") else 2


def _related(a: str, b: str, kb: Knowledge) -> bool:
    return a == b or a in kb.descendants(b) or b in kb.descendants(a)


def _covers(isolated: str, category: str, kb: Knowledge) -> bool:
    """An isolated category takes a line's category when it is that category or one above it."""
    return category in kb.descendants(isolated) if isolated in kb.categories else isolated == category


def _edition_codes(proposal: Proposal, kb: Knowledge) -> set[str] | None:
    if proposal.base_edition not in kb.hs:
        return None
    return set(kb.hs[proposal.base_edition]["code"])


def _in_edition(code: str, edition: int, codes: set[str] | None, kb: Knowledge) -> bool:
    if codes is not None and code in codes:
        return True
    return known_in_edition(code, edition, kb)  # our file, or the full list where we have one


def validate_proposal(proposal: Proposal, kb: Knowledge | None = None) -> list[Problem]:
    """Every problem of a proposal, errors and warnings, in the order of the file; empty when it is sound."""
    kb = kb or load_knowledge()
    problems: list[Problem] = []
    edition_codes = _edition_codes(proposal, kb)
    if edition_codes is None:
        problems.append(
            Problem(
                str(proposal.base_edition),
                "unknown-edition",
                f"HS {proposal.base_edition} is not in the knowledge base: current codes and reuse were checked "
                "only against this proposal",
                "warning",
            )
        )
    if proposal.status == "draft" and not proposal.disclaimer:
        problems.append(
            Problem(proposal.id, "disclaimer", "a draft says who made it and that it is no WCO text", "warning")
        )
    _check_categories(proposal, kb, problems)
    replaced: dict[str, int] = {}
    new_codes: dict[str, int] = {}
    for number, amendment in enumerate(proposal.amendments, start=1):
        _check_current(proposal, amendment, number, kb, edition_codes, replaced, problems)
        nodes = _tree(amendment, problems)
        _check_codes(proposal, amendment, nodes, kb, edition_codes, new_codes, number, problems)
        _check_exhaustive(nodes, amendment, problems)
        _check_overlap(amendment, kb, problems)
        _check_correlation(amendment, problems)
        _check_knowledge(proposal, amendment, kb, problems)
    _check_claims(proposal, kb, problems)
    return problems


def _check_categories(proposal: Proposal, kb: Knowledge, problems: list[Problem]) -> None:
    for category in proposal.isolates:
        if category not in kb.categories:
            problems.append(Problem(category, "unknown-category", f"{category} is not in categories.yaml"))
    for line in (line for amendment in proposal.amendments for line in amendment.lines):
        for category in [*line.isolates, *line.holds]:
            if category not in kb.categories:
                problems.append(Problem(line.label, "unknown-category", f"{category} is not in categories.yaml"))
        if line.code and line.isolates and not line.definition:
            problems.append(
                Problem(line.code, "definition", "name the UN Register definition the text relies on", "warning")
            )
        if line.decidable != "yes" and not line.note:
            problems.append(
                Problem(line.label, "decidable", "say why a declaration cannot (fully) decide this line", "warning")
            )


def _check_current(
    proposal: Proposal,
    amendment: Amendment,
    number: int,
    kb: Knowledge,
    edition_codes: set[str] | None,
    replaced: dict[str, int],
    problems: list[Problem],
) -> None:
    for current in amendment.current_codes:
        if not _HS6.match(current):
            problems.append(Problem(current, "code-format", "a current code is a subheading written 9301.10"))
            continue
        if current[:4] != amendment.heading:
            problems.append(
                Problem(current, "mixed-headings", f"one amendment changes one heading ({amendment.heading})")
            )
        if edition_codes is not None and not _in_edition(current, proposal.base_edition, edition_codes, kb):
            problems.append(
                Problem(current, "unknown-current-code", f"{current} is not a subheading of HS {proposal.base_edition}")
            )
        if current in replaced:
            problems.append(Problem(current, "replaced-twice", f"already replaced by amendment {replaced[current]}"))
        replaced.setdefault(current, number)


def _scope(amendment: Amendment) -> str:
    """Where new codes may go: the five-digit group all replaced codes share, else their heading."""
    groups = {_group(code) for code in amendment.current_codes if _HS6.match(code)}
    return groups.pop() if len(groups) == 1 else amendment.heading


@dataclass
class _Seen:
    """What the checks of one proposal remember across lines and amendments."""

    new_codes: dict[str, int] = field(default_factory=dict)  # code → amendment that proposed it
    groups: dict[str, str] = field(default_factory=dict)  # five-digit group → who uses it (per amendment)
    previous: str = ""  # last code, for the order rule (per amendment)


def _check_codes(
    proposal: Proposal,
    amendment: Amendment,
    nodes: list[_Node],
    kb: Knowledge,
    edition_codes: set[str] | None,
    new_codes: dict[str, int],
    number: int,
    problems: list[Problem],
) -> None:
    seen = _Seen(new_codes=new_codes)
    for node in nodes:
        _check_group(node, set(amendment.current_codes), edition_codes, seen, problems)
        for item in [node, *node.children]:
            if item.line.code:
                _check_new_code(item.line, proposal, amendment, kb, edition_codes, seen, number, problems)


def _check_group(
    node: _Node, current: set[str], edition_codes: set[str] | None, seen: _Seen, problems: list[Problem]
) -> None:
    """A text line heads two-dash codes of one five-digit group that nothing else in force uses."""
    line = node.line
    if line.code:
        groups, owner = ({line.code[:6]} if _HS6.match(line.code) else set()), line.code
    else:
        if line.isolates or line.holds:
            problems.append(Problem(line.label, "header-categories", "only subheadings with a code hold goods"))
        if not node.children:
            problems.append(Problem(line.label, "header-empty", "a text line without code heads two-dash subheadings"))
        groups = {c.line.code[:6] for c in node.children if c.line.code and _HS6.match(c.line.code)}
        if len(groups) > 1:
            message = f"its subheadings must share five digits, not {sorted(groups)}"
            problems.append(Problem(line.label, "header-group", message))
        owner = f"the text line '{line.text}'"
    for group in groups:
        if group in seen.groups:
            problems.append(Problem(line.label, "header-group", f"group {group} is used by {seen.groups[group]} too"))
        seen.groups.setdefault(group, owner)
        in_use = sorted(c for c in edition_codes or () if len(c) == 7 and c[:6] == group and c not in current)
        if in_use:
            message = f"group {group} holds {in_use[0]}, which stays in force"
            problems.append(Problem(line.label, "group-in-use", message))


def _check_new_code(
    line: NewLine,
    proposal: Proposal,
    amendment: Amendment,
    kb: Knowledge,
    edition_codes: set[str] | None,
    seen: _Seen,
    number: int,
    problems: list[Problem],
) -> None:
    """A new code is well formed, matches its indentation, stays in scope, is new, and follows the order."""
    code = line.code or ""
    if not _HS6.match(code):
        problems.append(Problem(code, "code-format", "a new code is a subheading written 9301.12"))
        return
    if code[5] == "0":
        problems.append(Problem(code, "code-level", "a fifth digit 0 (.00) marks a heading with no subheadings"))
    if line.level == 1 and not code.endswith("0"):
        problems.append(Problem(code, "code-level", "a one-dash subheading without subdivision ends in 0"))
    if line.level == 2 and code.endswith("0"):
        problems.append(Problem(code, "code-level", "a two-dash subheading ends in 1 to 9"))
    scope = _scope(amendment)
    if not code.startswith(scope):
        problems.append(Problem(code, "nesting", f"new codes stay under {scope}, where the replaced codes are"))
    if code in amendment.current_codes or _in_edition(code, proposal.base_edition, edition_codes, kb):
        message = f"{code} already exists in HS {proposal.base_edition}; use a new code"
        problems.append(Problem(code, "reused-code", message))
    if code in seen.new_codes:
        problems.append(Problem(code, "duplicate-code", f"already proposed in amendment {seen.new_codes[code]}"))
    seen.new_codes.setdefault(code, number)
    if code <= seen.previous:
        message = f"codes follow the text in ascending order ({seen.previous} comes first)"
        problems.append(Problem(code, "order", message))
    seen.previous = max(seen.previous, code)


def _check_exhaustive(nodes: list[_Node], amendment: Amendment, problems: list[Problem]) -> None:
    """Each set of siblings covers the whole of what it divides: with two or more, one is the 'Other'."""
    where = ", ".join(amendment.current_codes)
    sets = [(nodes, where)] + [(node.children, node.line.label) for node in nodes if node.children]
    for siblings, parent in sets:
        if len(siblings) >= 2 and not any(node.line.residual for node in siblings):
            problems.append(
                Problem(
                    parent, "gap", "no residual subheading ('Other', residual: true) among the lines that divide it"
                )
            )
    for siblings, parent in sets:
        texts: dict[str, str] = {}
        for node in siblings:
            key = re.sub(r"[\s:;.,]+", " ", node.line.text.lower()).strip()
            if key in texts:
                problems.append(Problem(node.line.label, "overlap", f"same text as {texts[key]} under {parent}"))
            texts.setdefault(key, node.line.label)


def _check_overlap(amendment: Amendment, kb: Knowledge, problems: list[Problem]) -> None:
    """A category isolated by one subheading cannot also go to another of the same amendment."""
    known = [line for line in amendment.subheadings if all(c in kb.categories for c in [*line.isolates, *line.holds])]
    for position, line in enumerate(known):
        for other in known[:position]:
            for mine in line.isolates:
                for theirs in other.isolates:
                    if _related(mine, theirs, kb):
                        problems.append(
                            Problem(
                                line.code or "",
                                "overlap",
                                f"{line.code} isolates {mine}, {other.code} isolates {theirs}",
                            )
                        )
            for isolating, holding in ((line, other), (other, line)):
                for mine in isolating.isolates:
                    for held in holding.holds:
                        if _related(mine, held, kb):
                            problems.append(
                                Problem(
                                    line.code or "",
                                    "overlap",
                                    f"{isolating.code} isolates {mine} but {holding.code} holds {held}",
                                )
                            )


def _check_correlation(amendment: Amendment, problems: list[Problem]) -> None:
    current = set(amendment.current_codes)
    proposed = {line.code for line in amendment.subheadings}
    headers = {line.text for line in amendment.lines if not line.code}
    linked_from: set[str] = set()
    reached: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for link in amendment.correlation:
        if link.from_code not in current:
            problems.append(
                Problem(link.from_code, "orphan-correlation", f"{link.from_code} is not a code this amendment replaces")
            )
        linked_from.add(link.from_code)
        for target in link.to:
            if target not in proposed:
                why = "a text line has no code" if target in headers else "not a subheading of this amendment"
                problems.append(Problem(target, "orphan-correlation", f"{link.from_code} → {target}: {why}"))
            if (link.from_code, target) in seen:
                problems.append(
                    Problem(target, "duplicate-correlation", f"{link.from_code} → {target} twice", "warning")
                )
            seen.add((link.from_code, target))
            reached.add(target)
    for code in amendment.current_codes:
        if code not in linked_from:
            problems.append(Problem(code, "correlation-missing", f"say where the goods of {code} go"))
    for line in amendment.subheadings:
        if line.code not in reached:
            problems.append(Problem(line.code or "", "unreached-code", "no current code correlates to it"))


def _held_today(proposal: Proposal, amendment: Amendment, kb: Knowledge) -> set[str] | None:
    if proposal.base_edition not in kb.hs:
        return None
    held: set[str] = set()
    for code in amendment.current_codes:
        if _HS6.match(code):
            held.update(categories_for_code(code, proposal.base_edition, kb)["category"])
    return held


def _check_knowledge(proposal: Proposal, amendment: Amendment, kb: Knowledge, problems: list[Problem]) -> None:
    """Warn when a new code isolates a category the knowledge base never puts under the replaced codes."""
    held = _held_today(proposal, amendment, kb)
    if held is None:
        return
    for line in amendment.subheadings:
        for category in line.isolates:
            if category in kb.categories and not any(_related(category, other, kb) for other in held):
                problems.append(
                    Problem(
                        line.code or "",
                        "not-held-today",
                        f"att_hs.csv puts no {category} under {', '.join(amendment.current_codes)}",
                        "warning",
                    )
                )


def isolated_categories(proposal: Proposal) -> dict[str, list[str]]:
    """Category → the new codes that isolate it (reached by a correlation link)."""
    found: dict[str, list[str]] = {}
    for amendment in proposal.amendments:
        reached = {target for link in amendment.correlation for target in link.to}
        for line in amendment.subheadings:
            if line.code in reached:
                for category in line.isolates:
                    found.setdefault(category, []).append(line.code)
    return found


def _reachable(category: str, isolated: dict[str, list[str]], kb: Knowledge) -> bool:
    if category in isolated:
        return True
    children = kb.children(category)
    return bool(children) and all(_reachable(child, isolated, kb) for child in children)


def _check_claims(proposal: Proposal, kb: Knowledge, problems: list[Problem]) -> None:
    isolated = isolated_categories(proposal)
    for category in proposal.isolates:
        if category in kb.categories and not _reachable(category, isolated, kb):
            problems.append(
                Problem(
                    category,
                    "unreachable-category",
                    f"the proposal claims to isolate {category}, but no new subheading reached by the correlation "
                    "isolates it (or all of its sub-categories)",
                )
            )


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.severity == "error"]


def problems_table(problems: Iterable[Problem]) -> pd.DataFrame:
    rows = [(p.severity, p.code, p.rule, p.message) for p in problems]
    return pd.DataFrame(rows, columns=["severity", "code", "rule", "message"], dtype="str")


# --- correlation -----------------------------------------------------------------------------------

CORRELATION_COLUMNS = ["amendment", "current", "proposed", "relation", "note"]


def correlation_table(proposal: Proposal) -> pd.DataFrame:
    """Current → proposed, one row a link, with the relation as the UNSD tables write it (1:1, 1:n …)."""
    rows = []
    for number, amendment in enumerate(proposal.amendments, start=1):
        pairs = [(link.from_code, target, link.note) for link in amendment.correlation for target in link.to]
        targets = pd.Series([p[0] for p in pairs]).value_counts().to_dict()
        sources = pd.Series([p[1] for p in pairs]).value_counts().to_dict()
        for current, proposed, note in dict.fromkeys(pairs):
            many_to, many_from = targets[current] > 1, sources[proposed] > 1
            relation = {(False, False): "1:1", (True, False): "1:n", (False, True): "n:1"}.get(
                (many_to, many_from), "n:n"
            )
            rows.append((number, current, proposed, relation, note))
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS).astype({"amendment": "int64"})


# --- evidence --------------------------------------------------------------------------------------

QUANTITY_NAMES = ("quantity", "qty", "items", "number_of_items", "supplementary_quantity", "quantite", "cantidad")
UNIT_NAMES = ("unit", "quantity_unit", "unit_of_measure", "uom", "unite", "unidad")
VALUE_NAMES = (
    "value",
    "statistical_value",
    "customs_value",
    "trade_value",
    "fob_value",
    "cif_value",
    "valeur",
    "valor",
)
CURRENCY_NAMES = ("currency", "devise", "moneda")
ITEM_UNITS = {
    "u",
    "un",
    "unit",
    "units",
    "item",
    "items",
    "pc",
    "pcs",
    "pce",
    "piece",
    "pieces",
    "p/st",
    "nar",
    "no",
    "nos",
    "number",
    "ea",
    "each",
    "st",
}
EVIDENCE_COLUMNS = ["amendment", "current", "proposed", "text", "isolates", "lines", "items", "value"]
AMBIGUOUS = "(ambiguous)"


@dataclass(frozen=True)
class Evidence:
    """Declaration lines counted per proposed subheading, with what could not be placed."""

    table: pd.DataFrame  # EVIDENCE_COLUMNS: per new subheading, plus one '(ambiguous)' row per amendment
    lines: int  # lines read
    in_scope: int  # lines under a code the proposal replaces
    ambiguous: int
    classified: bool  # True when hsmap classified the lines here (no att_category column was given)
    currency: str  # the one currency of the value column, "mixed", or ""
    source: str = ""
    quantity_column: str | None = None  # the columns items and value were read from (None: not found)
    value_column: str | None = None


HINT_MIN = 0.1  # a candidate score below this is a rare-under-this-code prior, not a doubt about the line


def _candidates(text: str) -> list[str]:
    """Candidate categories of a classified line (``IV.a:0.15;ART4:0.05``) worth a doubt (score ≥ HINT_MIN)."""
    found = []
    for part in str(text).split(";"):
        category, _, score = part.partition(":")
        try:
            strong = float(score) >= HINT_MIN if score else True
        except ValueError:
            strong = True
        if category.strip() and strong:
            found.append(category.strip())
    return found


def place_line(targets: list[NewLine], category: str, candidates: list[str], kb: Knowledge) -> tuple[str, str]:
    """The proposed code a classified line would take, and how it was decided (``category``,
    ``related``, ``other``) — or ``("", "ambiguous")`` when the line cannot say which subheading."""
    known = category in kb.categories
    if category:
        exact = [t for t in targets if known and any(_covers(c, category, kb) for c in t.isolates)]
        if len(exact) == 1:
            return exact[0].code or "", "category"
        related = [t for t in targets if known and any(_related(c, category, kb) for c in [*t.isolates, *t.holds])]
        if len(exact) > 1 or len(related) > 1:
            return "", "ambiguous"
        if related:
            return related[0].code or "", "related"
    else:
        isolating = [c for t in targets for c in t.isolates]
        hinted = [c for c in candidates if c in kb.categories and any(_related(c, i, kb) for i in isolating)]
        if hinted:
            return "", "ambiguous"
    others = [t for t in targets if not t.isolates]
    return (others[0].code or "", "other") if len(others) == 1 else ("", "ambiguous")


def _number(values: pd.Series) -> pd.Series:
    """Numbers as declarations write them: ``1 150 000``, ``1,150,000``, ``1150000.5`` or ``1150000,5``."""
    text = values.astype("str").str.strip().str.replace(r"[\s_']", "", regex=True)
    decimal_comma = text.str.match(r"^-?\d+,\d{1,2}$")
    text = text.where(~decimal_comma, text.str.replace(",", ".", regex=False)).str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce").fillna(0.0)


def _classified(
    frame: pd.DataFrame, kb: Knowledge, edition: int, code_column: str | None, text_column: str | None, source: str
) -> tuple[pd.DataFrame, bool]:
    """The frame with ``hs6`` and ``att_category``: as given, or classified here when they are missing."""
    if "att_category" in frame.columns:
        if "hs6" not in frame.columns:
            code, _ = detect_columns(list(frame.columns), source, code_column, text_column)
            if code is None:
                raise InputError(source, 1, code_column, "an hs6 or code column is needed with att_category")
            frame = frame.assign(hs6=normalize_codes(frame[code])["hs6"])
        return frame, False
    from hsmap.classify import classify

    code, text = detect_columns(list(frame.columns), source, code_column, text_column)
    return classify(frame, code, text, edition=edition, kb=kb), True


def compute_evidence(
    frame: pd.DataFrame,
    proposal: Proposal,
    kb: Knowledge | None = None,
    *,
    code_column: str | None = None,
    text_column: str | None = None,
    quantity_column: str | None = None,
    value_column: str | None = None,
    source: str = "declarations",
) -> Evidence:
    """How many lines, items and how much value each proposed subheading would receive from declarations.

    A frame with ``att_category`` (and ``hs6`` or a code column) is used as classified; otherwise hsmap
    classifies it first. Items count the quantity of lines whose unit is a number of items (all lines when
    there is no unit column); value is the sum of the value column.
    """
    kb = kb or load_knowledge()
    edition = proposal.base_edition if proposal.base_edition in kb.hs else 2022
    frame, classified = _classified(frame, kb, edition, code_column, text_column, source)
    names = list(frame.columns)
    quantity = find_column(names, quantity_column, QUANTITY_NAMES, "quantity", source)
    value = find_column(names, value_column, VALUE_NAMES, "value", source)
    unit = find_column(names, None, UNIT_NAMES, "unit", source)
    currency_column = find_column(names, None, CURRENCY_NAMES, "currency", source)

    targets: dict[str, tuple[int, list[NewLine]]] = {}
    for number, amendment in enumerate(proposal.amendments, start=1):
        by_code = {line.code: line for line in amendment.subheadings}
        for current in amendment.current_codes:
            wanted = [t for link in amendment.correlation if link.from_code == current for t in link.to]
            targets[current] = (number, [by_code[t] for t in dict.fromkeys(wanted) if t in by_code])

    hs6 = frame["hs6"].astype("str").fillna("")
    category = frame["att_category"].astype("str").fillna("").replace({"nan": "", "<NA>": ""})
    candidates = (
        frame["candidates"].astype("str").fillna("") if "candidates" in frame else pd.Series("", index=frame.index)
    )
    keys = pd.MultiIndex.from_arrays([hs6.to_numpy(), category.to_numpy(), candidates.to_numpy()])
    key_ids, unique = pd.factorize(keys)
    placed = []
    for code, cat, cand in unique:
        if code not in targets:
            placed.append((0, "", "outside"))
        else:
            number, reached = targets[code]
            placed.append((number, *place_line(reached, cat, _candidates(cand), kb)))
    per_key = pd.DataFrame(placed, columns=["amendment", "proposed", "how"])
    per_line = per_key.iloc[key_ids].set_axis(frame.index)

    items = _number(frame[quantity]) if quantity else pd.Series(0.0, index=frame.index)
    if quantity and unit:
        units = frame[unit].astype("str").str.strip().str.lower()
        items = items.where(units.isin(ITEM_UNITS), 0.0)
    values = _number(frame[value]) if value else pd.Series(0.0, index=frame.index)
    per_line = per_line.assign(items=items, value=values)

    rows = []
    for number, amendment in enumerate(proposal.amendments, start=1):
        mine = per_line[per_line["amendment"] == number]
        current = ", ".join(amendment.current_codes)
        for line in amendment.subheadings:
            hit = mine[(mine["proposed"] == line.code) & (mine["how"] != "ambiguous")]
            rows.append(
                (
                    number,
                    current,
                    line.code,
                    line.text,
                    " ".join(line.isolates),
                    len(hit),
                    hit["items"].sum(),
                    hit["value"].sum(),
                )
            )
        unsure = mine[mine["how"] == "ambiguous"]
        rows.append(
            (
                number,
                current,
                AMBIGUOUS,
                "lines that cannot tell which new subheading",
                "",
                len(unsure),
                unsure["items"].sum(),
                unsure["value"].sum(),
            )
        )
    table = pd.DataFrame(rows, columns=EVIDENCE_COLUMNS)
    currencies: set[str] = set()
    if currency_column:
        currencies = set(frame[currency_column].astype("str").fillna("").str.strip().str.upper()) - {""}
    return Evidence(
        table=table,
        lines=len(frame),
        in_scope=int((per_line["amendment"] > 0).sum()),
        ambiguous=int((per_line["how"] == "ambiguous").sum()),
        classified=classified,
        currency=currencies.pop() if len(currencies) == 1 else ("mixed" if currencies else ""),
        source=source,
        quantity_column=quantity,
        value_column=value,
    )


def current_text(code: str, given: str, edition: int, kb: Knowledge) -> str:
    """The text shown for a current code: the proposal's own, else our description of it."""
    if given or (edition not in kb.hs and edition != COMTRADE_EDITION):
        return given
    return describe_code(code, edition, kb)
