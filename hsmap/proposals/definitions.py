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
    """A line (and its position in the amendment) with the two-dash lines it heads."""

    line: NewLine
    position: int
    children: list[Node] = field(default_factory=list)


def nest_lines(amendment: Amendment) -> tuple[list[Node], list[Problem]]:
    """The lines as the HS nests them: one-dash lines on top, two-dash ones under the text line above."""
    top: list[Node] = []
    problems: list[Problem] = []
    for position, line in enumerate(amendment.lines):
        if line.level not in (1, 2):
            problems.append(Problem(line.label, "level", f"level {line.level}: HS six digits allow 1 or 2 dashes"))
            continue
        if line.level == 2 and not line.code:
            problems.append(Problem(line.label, "level", "a two-dash line needs a code (six digits hold two levels)"))
            continue
        if line.level == 1:
            top.append(Node(line, position))
        elif top and not top[-1].line.code:
            top[-1].children.append(Node(line, position))
        else:
            problems.append(
                Problem(line.label, "level", "a two-dash subheading must follow a one-dash text line without code")
            )
    return top, problems


@dataclass(frozen=True)
class DefinitionCheck:
    """What the check of one amendment covered, for the draft's statement, and what it found; no items
    when it could not run (criteria that cannot be read, lines left undescribed)."""

    amendment: int
    items: int
    attributes: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def passed(self) -> bool:
        return self.items > 0 and not self.problems


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


def _compatible(entry: Condition, chain: list[Condition]) -> bool:
    """Whether the goods entry allows every value choice a category's conditions require."""
    for condition in chain:
        for name, values in condition.choices:
            allowed = entry.allowed(name)
            if allowed is not None and not allowed & values:
                return False
    return True


def _relevant_categories(goods: list[Condition], kb: Knowledge) -> list[str]:
    """The described categories an item of the goods could belong to (their choices do not exclude it)."""
    return [c for c in category_conditions(kb) if any(_compatible(entry, category_chain(c, kb)) for entry in goods)]


class _Placer:
    """Places a grid of items among the lines of one amendment, as the HS would, and records the trouble."""

    def __init__(self, items: pd.DataFrame, criteria: dict[int, Condition]) -> None:
        self.items = items
        self.criteria = criteria  # position of the line in the amendment → its condition
        self.code = np.full(len(items), "", dtype=object)
        self.gaps: list[tuple[str, np.ndarray]] = []
        self.overlaps: list[tuple[str, str, np.ndarray]] = []

    def condition(self, node: Node) -> Condition:
        return self.criteria.get(node.position, EVERYTHING)

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


def check_amendment(amendment: Amendment, nodes: list[Node], number: int, kb: Knowledge) -> DefinitionCheck:
    """The definition check of one amendment whose lines were nested into ``nodes``."""
    vocabulary = load_attributes(kb)
    goods, criteria, problems = _parse_lines(amendment, vocabulary)
    for siblings in [nodes, *(node.children for node in nodes)]:
        for node in siblings:
            described = node.position in criteria or node.line.residual
            if len(siblings) > 1 and not described:
                message = "describe it by the attributes its text uses (criteria), or mark it residual"
                problems.append(Problem(node.line.label, "criteria-missing", message))
    if problems:
        return DefinitionCheck(number, 0, (), tuple(problems))
    categories = [c for category in _relevant_categories(goods, kb) for c in category_chain(category, kb)]
    try:
        items = item_grid(goods, [*criteria.values(), *categories], vocabulary)
    except ValueError as error:
        return DefinitionCheck(number, 0, (), (Problem(", ".join(amendment.current_codes), "criteria", str(error)),))
    placer = _Placer(items, criteria)
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
    placer = _Placer(items, criteria)
    placer.place(nodes, ", ".join(amendment.current_codes), np.ones(len(items), dtype=bool))
    return pd.Series(placer.code, index=items.index, dtype="str")


def definition_checks(proposal: Proposal, kb: Knowledge) -> dict[int, DefinitionCheck]:
    """The definition check of every amendment that describes its goods and nests soundly, by number."""
    found = {}
    for number, amendment in enumerate(proposal.amendments, start=1):
        nodes, structure = nest_lines(amendment)
        if amendment.goods and not structure:
            found[number] = check_amendment(amendment, nodes, number, kb)
    return found
