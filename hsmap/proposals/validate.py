"""Checks a drafting officer relies on: every problem of a proposal at once, each with the code and the
rule it breaks, because a draft is fixed in one sitting, not one error per run.

The rules (listed in ``mappings/README.md``) cover the codes (format, level, order, nesting, not used in the
base edition), the structure (text lines, residual lines), the categories (known, not isolated twice,
reachable through the correlation), the correlation itself, the base edition (in the knowledge base, and
the latest one it holds) and, through :mod:`hsmap.proposals.definitions`, the definitions of the new lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.lookup import COMTRADE_EDITION, categories_for_code, known_in_edition
from hsmap.proposals.criteria import related
from hsmap.proposals.definitions import Node, check_amendment, nest_lines
from hsmap.proposals.model import Amendment, NewLine, Problem, Proposal

_HS6 = re.compile(r"^\d{4}\.\d{2}$")


def _group(code: str) -> str:
    """The five-digit subheading a code belongs to: ``8802.1`` for 8802.11, ``8710`` for 8710.00."""
    return code[:4] if code.endswith(".00") else code[:6]


def current_level(code: str) -> int:
    """Indentation of a current code: 0 for an undivided heading (.00), 1 for a one-dash one, else 2."""
    if code.endswith(".00"):
        return 0
    return 1 if code.endswith("0") else 2


def _edition_codes(proposal: Proposal, kb: Knowledge) -> set[str] | None:
    if proposal.base_edition not in kb.hs:
        return None
    return set(kb.hs[proposal.base_edition]["code"])


def _in_edition(code: str, edition: int, codes: set[str] | None, kb: Knowledge) -> bool:
    if codes is not None and code in codes:
        return True
    return known_in_edition(code, edition, kb)  # our file, or the full list where we have one


def _knows_heading(code: str, edition: int, codes: set[str] | None) -> bool:
    """Whether the knowledge base can tell that a code is free in an edition: our files list every
    subheading of a heading they hold, and HS 2022 is also known in full (UN Comtrade list)."""
    return edition == COMTRADE_EDITION or (codes is not None and code[:4] in codes)


def _check_edition(proposal: Proposal, kb: Knowledge, problems: list[Problem]) -> None:
    """A draft amends an edition whose codes the knowledge base holds, and the latest it holds."""
    edition = proposal.base_edition
    known = ", ".join(f"HS {e}" for e in kb.editions)
    if edition not in kb.hs:
        if proposal.status == "draft":
            message = (
                f"HS {edition} is not in the knowledge base ({known}): its codes cannot be checked, so a draft "
                f"cannot amend it yet; add mappings/hs/{edition}.csv and its UNSD correlation once published"
            )
            problems.append(Problem(str(edition), "unknown-edition", message))
        else:
            message = f"HS {edition} is not in the knowledge base ({known}): codes were checked against this file only"
            problems.append(Problem(str(edition), "unknown-edition", message, "warning"))
        return
    newer = [e for e in kb.editions if e > edition]
    if proposal.status == "draft" and newer:
        message = f"HS {newer[-1]} is in the knowledge base: amend the latest edition, or say why not in the notes"
        problems.append(Problem(str(edition), "newer-edition", message, "warning"))


def validate_proposal(proposal: Proposal, kb: Knowledge | None = None) -> list[Problem]:
    """Every problem of a proposal, errors and warnings, in the order of the file; empty when it is sound."""
    kb = kb or load_knowledge()
    problems: list[Problem] = []
    _check_edition(proposal, kb, problems)
    edition_codes = _edition_codes(proposal, kb)
    if proposal.status == "draft" and not proposal.disclaimer:
        problems.append(
            Problem(proposal.id, "disclaimer", "a draft says who made it and that it is no WCO text", "warning")
        )
    _check_categories(proposal, kb, problems)
    replaced: dict[str, int] = {}
    new_codes: dict[str, int] = {}
    for number, amendment in enumerate(proposal.amendments, start=1):
        _check_current(proposal, amendment, number, kb, edition_codes, replaced, problems)
        nodes, structure = nest_lines(amendment)
        problems += structure
        _check_codes(proposal, amendment, nodes, kb, edition_codes, new_codes, number, problems)
        _check_overlap(amendment, kb, problems)
        _check_correlation(amendment, problems)
        _check_knowledge(proposal, amendment, kb, problems)
        if not amendment.goods:
            _check_exhaustive(nodes, amendment, problems)
            if any(line.isolates for line in amendment.lines):
                message = "describe the goods and each new line by item attributes, so the definitions can be checked"
                problems.append(Problem(", ".join(amendment.current_codes), "no-definitions", message, "warning"))
        elif not structure:
            problems += check_amendment(amendment, nodes, number, kb).problems
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
    nodes: list[Node],
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
    node: Node, current: set[str], edition_codes: set[str] | None, seen: _Seen, problems: list[Problem]
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
    edition = proposal.base_edition
    if code in amendment.current_codes or _in_edition(code, edition, edition_codes, kb):
        problems.append(Problem(code, "reused-code", f"{code} already exists in HS {edition}; use a new code"))
    elif edition_codes is not None and not _knows_heading(code, edition, edition_codes):
        message = f"heading {code[:4]} is not in hs/{edition}.csv, so whether {code} is free in HS {edition} is unknown"
        problems.append(Problem(code, "unchecked-code", message))
    if code in seen.new_codes:
        problems.append(Problem(code, "duplicate-code", f"already proposed in amendment {seen.new_codes[code]}"))
    seen.new_codes.setdefault(code, number)
    if code <= seen.previous:
        message = f"codes follow the text in ascending order ({seen.previous} comes first)"
        problems.append(Problem(code, "order", message))
    seen.previous = max(seen.previous, code)


def _check_exhaustive(nodes: list[Node], amendment: Amendment, problems: list[Problem]) -> None:
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
            both = [
                (f"{line.code} isolates {a}, {other.code} isolates {b}", a, b)
                for a in line.isolates
                for b in other.isolates
            ]
            held = [
                (f"{isolating.code} isolates {a} but {holding.code} holds {b}", a, b)
                for isolating, holding in ((line, other), (other, line))
                for a in isolating.isolates
                for b in holding.holds
            ]
            problems += [Problem(line.code or "", "overlap", text) for text, a, b in both + held if related(a, b, kb)]


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
            if category in kb.categories and not any(related(category, other, kb) for other in held):
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
