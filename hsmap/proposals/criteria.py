"""Items described by attributes, and the conditions that definitions put on them.

A UN Register category (``items`` in ``categories.yaml``) and a proposed subheading (``criteria`` in a
proposal) are both conditions on the attributes of ``mappings/attributes.yaml``: a choice attribute takes
listed values (``wing: rotary``), a number attribute meets bounds (``calibre_mm: ">= 75"``, several bounds
in a list), and ``any_of`` lists alternatives. :func:`item_grid` generates items across the attributes a set
of conditions uses (every value of each choice; for each number half the smallest bound, every bound, the
points between the bounds and twice the largest), so every region the conditions can tell apart holds at least one item.
Conditions are evaluated on the whole grid at once, as boolean masks over a DataFrame.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, reduce
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from hsmap.errors import InputError
from hsmap.knowledge import Knowledge
from hsmap.schema import Thresholds

MAX_GRID = 200_000  # items one goods entry may generate; more means the description needs fewer attributes
_BOUND = re.compile(r"^(>=|<=|>|<)\s*(\d+(?:\.\d+)?)$")
_OPERATORS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
ATTRIBUTES_FILE = "attributes.yaml"


class Attribute(BaseModel):
    """One attribute of an item: a choice among ``values`` (value → meaning) or a number in ``unit``."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    label: Annotated[str, StringConstraints(min_length=1)]
    meaning: Annotated[str, StringConstraints(min_length=1)]
    values: dict[str, str] | None = None
    unit: str | None = None
    source: Annotated[str, StringConstraints(min_length=1)]

    @model_validator(mode="after")
    def _choice_or_number(self) -> Attribute:
        if (self.values is None) == (self.unit is None):
            raise ValueError("give either values (a choice) or unit (a number)")
        return self

    @property
    def is_number(self) -> bool:
        return self.values is None


Vocabulary = Mapping[str, Attribute]


@cache
def _vocabulary(root: Path) -> dict[str, Attribute]:
    path = root / ATTRIBUTES_FILE
    shown = f"mappings/{ATTRIBUTES_FILE}"
    if not path.exists():
        raise InputError(shown, None, None, "file not found (the definition check needs it)")
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    found: dict[str, Attribute] = {}
    for number, entry in enumerate(entries, start=1):
        try:
            attribute = Attribute.model_validate(entry)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            raise InputError(shown, number, ".".join(str(p) for p in first["loc"]) or None, first["msg"]) from None
        if attribute.name in found:
            raise InputError(shown, number, "name", f"duplicate attribute {attribute.name}")
        found[attribute.name] = attribute
    return found


def load_attributes(kb: Knowledge) -> dict[str, Attribute]:
    """The attribute vocabulary of the knowledge base, in file order (read once per folder)."""
    return _vocabulary(kb.root)


@dataclass(frozen=True)
class Bound:
    """``value op bound``: ``>= 75`` holds for 75 and above."""

    op: str
    value: float

    def mask(self, values: np.ndarray) -> np.ndarray:
        return _OPERATORS[self.op](values.astype("float64"), self.value)


@dataclass(frozen=True)
class Condition:
    """All of ``choices`` and ``bounds``, and one of ``any_of`` when there are alternatives."""

    choices: tuple[tuple[str, frozenset[str]], ...] = ()
    bounds: tuple[tuple[str, Bound], ...] = ()
    any_of: tuple[Condition, ...] = ()

    def attributes(self) -> set[str]:
        own = {name for name, _ in self.choices} | {name for name, _ in self.bounds}
        return own.union(*(alternative.attributes() for alternative in self.any_of))

    def limits(self, name: str) -> list[float]:
        """Every bound this condition sets on a number attribute, alternatives included."""
        own = [bound.value for attribute, bound in self.bounds if attribute == name]
        return own + [value for alternative in self.any_of for value in alternative.limits(name)]

    def allowed(self, name: str) -> frozenset[str] | None:
        """The values a choice attribute must take (outside the alternatives), or None when it is free."""
        sets = [values for attribute, values in self.choices if attribute == name]
        return frozenset.intersection(*sets) if sets else None

    def mask(self, items: pd.DataFrame) -> np.ndarray:
        """Which items (rows) meet the condition; an attribute the items lack is never met."""
        result = np.ones(len(items), dtype=bool)
        for name, values in self.choices:
            result &= np.isin(items[name].to_numpy(), list(values)) if name in items else False
        for name, bound in self.bounds:
            result &= bound.mask(items[name].to_numpy()) if name in items else False
        if self.any_of:
            result &= reduce(operator.or_, (alternative.mask(items) for alternative in self.any_of))
        return result


EVERYTHING = Condition()


def _threshold_bounds(name: str, thresholds: Thresholds | None) -> list[tuple[str, Bound]]:
    figures = thresholds.model_dump(exclude_none=True) if thresholds else {}
    found = []
    if f"{name}_min" in figures:
        found.append((name, Bound(">=", float(figures[f"{name}_min"]))))
    if f"{name}_max" in figures:
        found.append((name, Bound("<", float(figures[f"{name}_max"]))))
    if not found:
        raise ValueError(f"{name}: 'threshold', but the category has no {name}_min or {name}_max threshold")
    return found


def parse_condition(raw: object, vocabulary: Vocabulary, thresholds: Thresholds | None = None) -> Condition:
    """A condition from its file form; raises ValueError saying what is wrong.

    ``threshold`` (categories only) takes a number attribute's bounds from ``thresholds``; every threshold
    that no ``threshold`` names is added to the whole condition.
    """
    named: set[str] = set()

    def parse(node: object, nested: bool) -> Condition:
        if not isinstance(node, Mapping):
            raise ValueError("a condition is a mapping of attribute: value (or bound)")
        choices: list[tuple[str, frozenset[str]]] = []
        bounds: list[tuple[str, Bound]] = []
        alternatives: tuple[Condition, ...] = ()
        for key, value in node.items():
            if key == "any_of":
                if nested or not isinstance(value, list) or not value:
                    raise ValueError("any_of is a list of conditions, at the top of a condition only")
                alternatives = tuple(parse(item, True) for item in value)
                continue
            attribute = vocabulary.get(str(key))
            if attribute is None:
                raise ValueError(f"unknown attribute {key!r} (see {ATTRIBUTES_FILE})")
            listed = [str(item) for item in value] if isinstance(value, list) else [str(value)]
            if not listed:
                raise ValueError(f"{key}: give at least one value")
            if attribute.values is not None:
                unknown = [item for item in listed if item not in attribute.values]
                if unknown:
                    raise ValueError(f"{key}: unknown value {unknown[0]!r} (one of {', '.join(attribute.values)})")
                choices.append((attribute.name, frozenset(listed)))
                continue
            for text in listed:
                if text == "threshold":
                    bounds.extend(_threshold_bounds(attribute.name, thresholds))
                    named.add(attribute.name)
                elif match := _BOUND.match(text.strip()):
                    bounds.append((attribute.name, Bound(match.group(1), float(match.group(2)))))
                else:
                    raise ValueError(f'{key}: write a bound as ">= 75", "> 2000", "<= 15000" or "< 12.7", not {text!r}')
        return Condition(tuple(choices), tuple(bounds), alternatives)

    condition = parse(raw, False)
    figures = thresholds.model_dump(exclude_none=True) if thresholds else {}
    implied = sorted({key.rsplit("_", 1)[0] for key in figures} - named)
    for name in implied:
        if name not in vocabulary:
            raise ValueError(f"threshold {name}: no such attribute in {ATTRIBUTES_FILE}")
    extra = tuple(bound for name in implied for bound in _threshold_bounds(name, thresholds))
    return Condition(condition.choices, condition.bounds + extra, condition.any_of)


@cache
def _category_conditions(kb: Knowledge) -> dict[str, Condition]:
    vocabulary = load_attributes(kb)
    found = {}
    for number, category in enumerate(kb.categories.values(), start=1):
        if category.items is None:
            continue
        try:
            found[category.id] = parse_condition(category.items, vocabulary, category.thresholds)
        except ValueError as error:
            raise InputError("mappings/categories.yaml", number, "items", f"{category.id}: {error}") from None
    return found


def category_conditions(kb: Knowledge) -> dict[str, Condition]:
    """Each described category's own condition (its parents' apply too), checked against the vocabulary."""
    return _category_conditions(kb)


def category_chain(category: str, kb: Knowledge) -> list[Condition]:
    """The conditions an item of ``category`` meets: its own and every described parent's."""
    conditions = category_conditions(kb)
    return [conditions[c] for c in kb.ancestors(category) if c in conditions]


def register_categories(items: pd.DataFrame, kb: Knowledge) -> pd.Series:
    """Each item's UN Register / ATT category: the first category, in the order of ``categories.yaml``,
    whose condition it meets, refined to its first sub-category that also applies; "" when none does."""
    conditions = category_conditions(kb)
    described = {ancestor for c in conditions for ancestor in kb.ancestors(c)}
    result = np.full(len(items), "", dtype=object)

    def visit(ids: Iterable[str], within: np.ndarray) -> None:
        for category in ids:
            if category not in described:
                continue
            mask = within & (result == "")
            if category in conditions:
                mask &= conditions[category].mask(items)
            if not mask.any():
                continue
            visit(kb.children(category), mask)
            if category in conditions:
                result[mask & (result == "")] = category

    visit([c for c, value in kb.categories.items() if value.parent is None], np.ones(len(items), dtype=bool))
    return pd.Series(result, index=items.index, dtype="str")


def _points(limits: Iterable[float]) -> list[float]:
    """Half the smallest limit, each limit, the midpoints between them and twice the largest: one value in
    every region the limits tell apart, and on every limit (where ``>=`` and ``>`` differ)."""
    bounds = sorted(set(limits))
    if not bounds:
        return [0.0]
    middles = [(low + high) / 2 for low, high in itertools.pairwise(bounds)]
    return sorted({bounds[0] / 2, *bounds, *middles, bounds[-1] * 2})


def item_domains(conditions: Sequence[Condition], vocabulary: Vocabulary) -> dict[str, list]:
    """The values each attribute the conditions use takes in the grid, in vocabulary order."""
    used = set().union(*(condition.attributes() for condition in conditions)) if conditions else set()
    domains: dict[str, list] = {}
    for name, attribute in vocabulary.items():
        if name not in used:
            continue
        if attribute.values is not None:
            domains[name] = list(attribute.values)
        else:
            domains[name] = _points(value for condition in conditions for value in condition.limits(name))
    return domains


def item_grid(goods: Sequence[Condition], conditions: Sequence[Condition], vocabulary: Vocabulary) -> pd.DataFrame:
    """Every combination of the attribute values the goods and the conditions tell apart, kept when one
    of the ``goods`` entries holds it; one row an item, one column an attribute."""
    domains = item_domains([*goods, *conditions], vocabulary)
    frames = []
    for entry in goods:
        restricted = {}
        for name, values in domains.items():
            allowed = entry.allowed(name)
            restricted[name] = values if allowed is None else [value for value in values if value in allowed]
        size = reduce(operator.mul, (len(values) for values in restricted.values()), 1)
        if size > MAX_GRID:
            raise ValueError(f"the goods describe {size:,} items (at most {MAX_GRID:,}): use fewer attributes")
        if not restricted:
            continue
        frame = pd.DataFrame(list(itertools.product(*restricted.values())), columns=list(restricted), dtype=object)
        frames.append(frame[entry.mask(frame)])
    if not frames:
        return pd.DataFrame(columns=list(domains), dtype=object)
    return pd.concat(frames, ignore_index=True).drop_duplicates(ignore_index=True)


def describe_item(item: Mapping[str, object], vocabulary: Vocabulary) -> str:
    """An item in words, as a drafting officer reads it: ``gun, portability: not portable, calibre 75 mm``."""
    parts = []
    for name, value in item.items():
        attribute = vocabulary[name]
        if attribute.values is None:
            unit = f" {attribute.unit}" if attribute.unit else ""
            parts.append(f"{attribute.label} {float(str(value)):,g}{unit}")
        elif name == "kind":
            parts.insert(0, str(value).replace("_", " "))
        else:
            parts.append(f"{attribute.label}: {str(value).replace('_', ' ')}")
    return ", ".join(parts)


def related(a: str, b: str, kb: Knowledge) -> bool:
    """Two categories are related when one is the other or lies below it."""
    return a == b or a in kb.descendants(b) or b in kb.descendants(a)


def covers(isolated: str, category: str, kb: Knowledge) -> bool:
    """An isolated (or held) category takes an item's category when it is that category or one above it."""
    return category in kb.descendants(isolated) if isolated in kb.categories else isolated == category
