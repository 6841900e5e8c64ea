"""The category level each side is compared at: never below the report's finest level, the finest level both
sides share, a common parent where the two sides disagree below it, and a combined level (``I+II``) where a
customs code cannot tell categories of several trees apart. The reconciliation and the store's mirror
comparison both pair their two sides with :func:`comparison_levels`."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pandas as pd

from hsmap.reconcile.categories import CategoryTree


def capped_categories(cells: pd.DataFrame, rep: pd.DataFrame, tree: CategoryTree) -> pd.Series:
    """Customs categories no finer than the finest level the report uses in that tree, year and flow."""
    if cells.empty:
        return pd.Series(dtype="str", index=cells.index)
    with_category = rep[rep["category"].ne("")]
    finest = (
        with_category.assign(depth=with_category["category"].map(tree.depth))
        .groupby(["year", "flow", "top"])["depth"]
        .max()
        .to_dict()
    )
    distinct = cells[["year", "flow", "category"]].drop_duplicates()
    capped = {}
    for year, flow, category in distinct.itertuples(index=False):
        level = finest.get((year, flow, tree.top[category]))
        deeper = level is not None and tree.depth[category] > level
        capped[(year, flow, category)] = tree.at_depth(category, level) if deeper else category
    keys = zip(cells["year"], cells["flow"], cells["category"], strict=True)
    return pd.Series([capped[key] for key in keys], index=cells.index, dtype="str")


def comparison_levels(members: pd.DataFrame, keys: list[str], tree: CategoryTree) -> pd.DataFrame:
    """Per group of ``keys`` (a partner, an exporter × importer pair …): each ``category`` of each ``side`` →
    the level ``cmp`` it is compared at.

    ``members`` has the ``keys``, ``side`` (two values, one per side), ``category`` and ``undecided``: the
    combined level of a customs line whose code cannot tell categories of several trees apart (``I+II``,
    ``III+VIII.LW``: :func:`hsmap.customs.undecided_levels`), else ``""``. Within a group:

    * a category is compared at its coarsest ancestor (or itself) that either side uses, so ``VIII.SA.4`` and
      ``VIII.SA.1`` on one side meet ``VIII.SA`` on the other at ``VIII.SA``;
    * an undecided line puts every category within its combined level's members at that level, on both sides
      (with ``I+II``, every I and II of the partner; with ``III+VIII.LW``, III and the light weapons);
    * where, within one category tree, each side has categories the other lacks (an exporter's ``VII.b``
      against an importer's ``VII.a``), they are compared at the lowest category holding them all (``VII``),
      with everything below it; categories only one side has stay apart.

    Returns the distinct ``keys``, ``category``, ``undecided`` and their ``cmp``.
    """
    columns = [*keys, "side", "category", "undecided"]
    distinct = members[columns].drop_duplicates().sort_values(columns, kind="stable")
    width = len(keys)
    found: list[tuple[object, ...]] = []
    rows = distinct.itertuples(index=False, name=None)
    for key, group in itertools.groupby(rows, key=lambda row: row[:width]):
        entries = [(str(side), str(category), str(undecided)) for *_, side, category, undecided in group]
        for (category, undecided), level in _group_levels(entries, tree).items():
            found.append((*key, category, undecided, level))
    out = pd.DataFrame(found, columns=[*keys, "category", "undecided", "cmp"])
    return out.astype({name: distinct[name].dtype for name in keys}) if len(out) else _empty(distinct, keys)


def _empty(distinct: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    columns = {name: pd.Series(dtype=distinct[name].dtype) for name in keys}
    return pd.DataFrame(columns | {name: pd.Series(dtype="str") for name in ("category", "undecided", "cmp")})


def _group_levels(entries: list[tuple[str, str, str]], tree: CategoryTree) -> dict[tuple[str, str], str]:
    """(category, undecided) → level for one group's (side, category, undecided) entries."""
    present = {category for _, category, _ in entries}
    undecided = {label for _, _, label in entries if label}
    while True:
        combined = _combined(undecided, present, tree)
        levels = {(category, label): _level(category, present, combined, tree) for _, category, label in entries}
        sides: dict[str, set[str]] = {}
        for side, category, label in entries:
            sides.setdefault(side, set()).add(levels[(category, label)])
        if len(sides) < 2:
            return levels
        first, second = sides.values()
        parents = set()
        for _, only in itertools.groupby(
            sorted(first ^ second, key=lambda c: tree.top.get(c, c)), key=lambda c: tree.top.get(c, c)
        ):
            disagreeing = [category for category in only if category in tree.top]
            if any(c in first for c in disagreeing) and any(c in second for c in disagreeing):
                parents.add(tree.common_ancestor(disagreeing))
        if not parents - present:
            return levels
        present |= parents


def _level(category: str, present: set[str], combined: dict[str, str], tree: CategoryTree) -> str:
    """The coarsest of the category and its ancestors that either side uses, or the combined level over it."""
    for ancestor in reversed(tree.ancestors.get(category, [category])):
        if ancestor in combined:
            return combined[ancestor]
        if ancestor in present:
            return ancestor
    return category


def _combined(undecided: Iterable[str], present: set[str], tree: CategoryTree) -> dict[str, str]:
    """Each member of the group's combined levels → the combined level that holds it.

    A member rises to the coarsest category either side uses above it (``III+VIII.LW`` meets a report row
    ``VIII`` as ``III+VIII``), and combined levels whose members overlap become one (``I+II`` and ``II+III``:
    ``I+II+III``)."""
    groups: list[set[str]] = []
    for label in undecided:
        members = {_coarsest_present(member, present, tree) for member in tree.members(label)}
        for group in [group for group in groups if _overlap(group, members, tree)]:
            members |= group
            groups.remove(group)
        groups.append({m for m in members if not any(o != m and o in tree.ancestors.get(m, ()) for o in members)})
    return {member: tree.combine(group) for group in groups for member in group}


def _coarsest_present(category: str, present: set[str], tree: CategoryTree) -> str:
    chain = tree.ancestors.get(category, [category])
    return next((ancestor for ancestor in reversed(chain) if ancestor in present), category)


def _overlap(first: set[str], second: set[str], tree: CategoryTree) -> bool:
    """Some category of one lies within (or is) a category of the other."""
    return any(a in tree.ancestors.get(b, [b]) or b in tree.ancestors.get(a, [a]) for a in first for b in second)
