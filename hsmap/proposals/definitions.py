"""The definition check: are a proposal's splits exhaustive and exclusive, and do they isolate what they claim?

Each amendment says which items its replaced codes hold (``goods``) and describes each new line by the
attributes its text and subheading note use (``criteria``). The check generates the items across those
attributes and the attributes of the Register categories the goods may belong to (:mod:`criteria`), places
every item as the HS would — among sibling lines, a line takes the items its criteria describe, and a
``residual`` ("Other") line only those no preceding sibling took — and reports, each with an example item:

* ``definition-gap``: an item that no line takes;
* ``definition-overlap``: an item that two sibling lines take;
* ``definition-mismatch``: a subheading that isolates a category takes an item of another category (or of
  none), so its code would count more than the category;
* ``definition-leak``: an item of a category that a subheading isolates falls in another subheading, so the
  isolating code would count less than the category;
* ``definition-holds`` (warning): a subheading takes items of a category it does not list under ``holds``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hsmap.knowledge import Knowledge
from hsmap.proposals.criteria import (
    EVERYTHING,
    Condition,
    Vocabulary,
    category_chain,
    category_conditions,
    covers,
    describe_item,
    item_grid,
    load_attributes,
    parse_condition,
    register_categories,
)
from hsmap.proposals.model import Amendment, NewLine, Problem, Proposal


@dataclass
class Node:
    """A line with the two-dash lines it heads."""

    line: NewLine
    children: list[Node] = field(default_factory=list)


def nest_lines(amendment: Amendment) -> tuple[list[Node], list[Problem]]:
    """The lines as the HS nests them: one-dash lines on top, two-dash ones under the text line above."""
    top: list[Node] = []
    problems: list[Problem] = []
    for line in amendment.lines:
        if line.level not in (1, 2):
            problems.append(Problem(line.label, "level", f"level {line.level}: HS six digits allow 1 or 2 dashes"))
            continue
        if line.level == 2 and not line.code:
            problems.append(Problem(line.label, "level", "a two-dash line needs a code (six digits hold two levels)"))
            continue
        if line.level == 1:
            top.append(Node(line))
        elif top and not top[-1].line.code:
            top[-1].children.append(Node(line))
        else:
            problems.append(
                Problem(line.label, "level", "a two-dash subheading must follow a one-dash text line without code")
            )
    return top, problems


@dataclass(frozen=True)
class DefinitionCheck:
    """What the check of one amendment covered, for the draft's statement, and what it found."""

    amendment: int
    items: int
    attributes: tuple[str, ...]
    problems: tuple[Problem, ...]


def _parse_lines(
    amendment: Amendment, vocabulary: Vocabulary
) -> tuple[list[Condition], dict[int, Condition], list[Problem]]:
    problems: list[Problem] = []
    goods = []
    where = ", ".join(amendment.current_codes)
    for position, raw in enumerate(amendment.goods, start=1):
        try:
            goods.append(parse_condition(raw, vocabulary))
        except ValueError as error:
            problems.append(Problem(where, "criteria", f"goods {position}: {error}"))
    criteria = {}
    for position, line in enumerate(amendment.lines):
        if not line.criteria:
            continue
        try:
            criteria[position] = parse_condition(line.criteria, vocabulary)
        except ValueError as error:
            problems.append(Problem(line.label, "criteria", str(error)))
    return goods, criteria, problems


def _relevant_categories(goods: list[Condition], kb: Knowledge) -> list[str]:
    """The described categories an item of the goods could belong to (their choices do not exclude it)."""
    relevant = []
    for category in category_conditions(kb):
        chain = category_chain(category, kb)
        for entry in goods:
            if all(
                entry.allowed(name) is None or (entry.allowed(name) or set()) & values
                for condition in chain
                for name, values in condition.choices
            ):
                relevant.append(category)
                break
    return relevant


class _Placer:
    """Places a grid of items among the lines of one amendment, as the HS would, and records the trouble."""

    def __init__(self, items: pd.DataFrame, criteria: dict[int, Condition], positions: dict[int, int]) -> None:
        self.items = items
        self.criteria = criteria
        self.positions = positions  # id(line) → position in the amendment
        self.code = np.full(len(items), "", dtype=object)
        self.gaps: list[tuple[str, np.ndarray]] = []
        self.overlaps: list[tuple[str, str, np.ndarray]] = []

    def condition(self, node: Node) -> Condition:
        return self.criteria.get(self.positions[id(node.line)], EVERYTHING)

    def place(self, siblings: list[Node], parent: str, within: np.ndarray) -> None:
        taken: list[np.ndarray] = []
        earlier = np.zeros(len(self.items), dtype=bool)
        for node in siblings:
            own = self.condition(node).mask(self.items)
            taken.append(within & own & ~earlier if node.line.residual else within & own)
            earlier |= own
        count = np.sum(taken, axis=0)
        self.gaps.append((parent, within & (count == 0)))
        for position, (first, mine) in enumerate(zip(siblings, taken, strict=True)):
            for second, theirs in zip(siblings[position + 1 :], taken[position + 1 :], strict=True):
                self.overlaps.append((first.line.label, second.line.label, mine & theirs))
        for node, mask in zip(siblings, taken, strict=True):
            single = mask & (count == 1)
            if node.children:
                self.place(node.children, node.line.label, single)
            elif node.line.code:
                self.code[single] = node.line.code
            else:
                self.gaps.append((node.line.label, single))


def _example(items: pd.DataFrame, mask: np.ndarray, vocabulary: Vocabulary) -> str:
    return describe_item(items[mask].iloc[0].to_dict(), vocabulary)


def _category_name(category: str, kb: Knowledge) -> str:
    return f"of category {category} ({kb.label(category)})" if category else "of no Register category"


def _covered(category: str, isolated: list[str], kb: Knowledge) -> bool:
    return bool(category) and any(covers(c, category, kb) for c in isolated)


def _category_problems(
    amendment: Amendment, items: pd.DataFrame, placed: np.ndarray, kb: Knowledge, vocabulary: Vocabulary
) -> list[Problem]:
    problems = []
    categories = register_categories(items, kb).to_numpy()
    lines = {line.code: line for line in amendment.subheadings}
    pairs = pd.DataFrame({"code": placed, "category": categories}).drop_duplicates()
    for code, category in pairs[pairs["code"] != ""].itertuples(index=False):
        line = lines[code]
        name = _category_name(category, kb)
        taken = (placed == code) & (categories == category)
        if line.isolates and not _covered(category, line.isolates, kb):
            item = _example(items, taken, vocabulary)
            message = f"{code} isolates {', '.join(line.isolates)}, but takes an item {name}: {item}"
            problems.append(Problem(code, "definition-mismatch", message))
        targets = [t.code or "" for t in amendment.subheadings if _covered(category, t.isolates, kb)]
        if targets and code not in targets:
            item = _example(items, taken, vocabulary)
            message = f"an item {name} falls in {code}, but {' and '.join(targets)} isolates it: {item}"
            problems.append(Problem(code, "definition-leak", message))
        elif category and not line.isolates and not _covered(category, line.holds, kb):
            item = _example(items, taken, vocabulary)
            message = f"{code} takes items {name} (e.g. {item}); list {category} under holds"
            problems.append(Problem(code, "definition-holds", message, "warning"))
    return problems


def check_amendment(
    amendment: Amendment, nodes: list[Node], number: int, kb: Knowledge
) -> DefinitionCheck | list[Problem]:
    """The definition check of one amendment whose lines were nested into ``nodes``: what it covered, or
    the problems that stop it from running (criteria that cannot be read or lines left undescribed)."""
    vocabulary = load_attributes(kb)
    goods, criteria, problems = _parse_lines(amendment, vocabulary)
    positions = {id(line): position for position, line in enumerate(amendment.lines)}
    for siblings in [nodes, *(node.children for node in nodes)]:
        for node in siblings:
            described = positions[id(node.line)] in criteria or node.line.residual
            if len(siblings) > 1 and not described:
                message = "describe it by the attributes its text uses (criteria), or mark it residual"
                problems.append(Problem(node.line.label, "criteria-missing", message))
    if problems:
        return problems
    categories = [c for category in _relevant_categories(goods, kb) for c in category_chain(category, kb)]
    try:
        items = item_grid(goods, [*criteria.values(), *categories], vocabulary)
    except ValueError as error:
        return [Problem(", ".join(amendment.current_codes), "criteria", str(error))]
    placer = _Placer(items, criteria, positions)
    placer.place(nodes, ", ".join(amendment.current_codes), np.ones(len(items), dtype=bool))
    found: list[Problem] = []
    for parent, mask in placer.gaps:
        if mask.any():
            message = f"no line under {parent} takes this item: {_example(items, mask, vocabulary)}"
            found.append(Problem(parent, "definition-gap", message))
    for first, second, mask in placer.overlaps:
        if mask.any():
            message = f"{first} and {second} both take this item: {_example(items, mask, vocabulary)}"
            found.append(Problem(first, "definition-overlap", message))
    found += _category_problems(amendment, items, placer.code, kb, vocabulary)
    return DefinitionCheck(number, len(items), tuple(items.columns), tuple(found))


def place_items(amendment: Amendment, items: pd.DataFrame, kb: Knowledge) -> pd.Series:
    """The new subheading each item (a row of attribute values) falls in; "" where it falls in none or in
    two. Raises ValueError when the amendment's criteria cannot be read."""
    nodes, structure = nest_lines(amendment)
    _, criteria, problems = _parse_lines(amendment, load_attributes(kb))
    if structure or problems:
        raise ValueError((structure + problems)[0].message)
    placer = _Placer(items, criteria, {id(line): position for position, line in enumerate(amendment.lines)})
    placer.place(nodes, ", ".join(amendment.current_codes), np.ones(len(items), dtype=bool))
    return pd.Series(placer.code, index=items.index, dtype="str")


def definition_checks(proposal: Proposal, kb: Knowledge) -> list[DefinitionCheck | list[Problem]]:
    """The definition check of every amendment that describes its goods, in the order of the file."""
    found: list[DefinitionCheck | list[Problem]] = []
    for number, amendment in enumerate(proposal.amendments, start=1):
        if amendment.goods:
            nodes, structure = nest_lines(amendment)
            found.append(structure or check_amendment(amendment, nodes, number, kb))
    return found
