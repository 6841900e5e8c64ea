"""The category hierarchy as the comparison needs it: depths, ancestors, top levels, names, the treaty's scope
(all from ``categories.yaml``), and the combined levels (``I+II``, ``III+VIII.LW``) that customs codes which
cannot tell categories of several trees apart are compared at."""

from __future__ import annotations

from collections.abc import Iterable

from hsmap.customs import COMBINED
from hsmap.knowledge import Knowledge


class CategoryTree:
    """The category hierarchy as plain dicts: depth, ancestors, top level, names; and the top levels in the
    knowledge base's order, split into the Art. 2(1) categories the annual report covers and the others."""

    def __init__(self, kb: Knowledge) -> None:
        self.ids = list(kb.categories)
        self.ancestors = {cid: kb.ancestors(cid) for cid in self.ids}
        self.depth = {cid: len(chain) - 1 for cid, chain in self.ancestors.items()}
        self.top = {cid: chain[-1] for cid, chain in self.ancestors.items()}
        self.label = {cid: kb.label(cid) for cid in self.ids}
        tops = [cid for cid in self.ids if self.depth[cid] == 0]
        self.article_2_tops = tuple(cid for cid in tops if kb.in_article_2(cid))
        self.out_of_scope_tops = tuple(cid for cid in tops if not kb.in_article_2(cid))
        self.order = {cid: position for position, cid in enumerate(self.ids)}
        self.common_ancestor = kb.common_ancestor

    def at_depth(self, category: str, depth: int) -> str:
        chain = self.ancestors[category]
        return chain[max(len(chain) - 1 - depth, 0)]

    # combined levels ---------------------------------------------------------------------------------------
    def combine(self, members: Iterable[str]) -> str:
        """The combined level of categories of several trees, in the knowledge base's order: ``III+VIII.LW``."""
        return COMBINED.join(sorted(set(members), key=lambda member: self.order.get(member, len(self.order))))

    @staticmethod
    def members(level: str) -> list[str]:
        """The categories of a combined level (``III+VIII.LW`` → III, VIII.LW); a category is its own member."""
        return level.split(COMBINED)

    def tops(self, level: str) -> list[str]:
        """The top-level categories a level lies in (two or more for a combined level)."""
        return [self.top.get(member, member) for member in self.members(level)]

    @staticmethod
    def is_combined(level: str) -> bool:
        return COMBINED in level

    def top_of(self, level: str) -> str:
        """The top-level category of a category; a combined level is its own top."""
        return level if self.is_combined(level) else self.top.get(level, "")

    def in_scope(self, level: str) -> bool:
        """Within the Art. 2(1) categories the annual report covers (a combined level when all its members are)."""
        return all(top in self.article_2_tops for top in self.tops(level))

    def name(self, level: str) -> str:
        """The category's name; a combined level names its members: ``Battle tanks or armoured combat vehicles``."""
        if not self.is_combined(level):
            return self.label.get(level, "")
        first, *others = (self.label.get(member, member) for member in self.members(level))
        return " or ".join([first, *(_in_sentence(label) for label in others)])

    def prose(self, category: str) -> str:
        """``assault rifles (VIII.SA.4)``: the name as it reads inside a sentence."""
        label = self.name(category) or category
        return f"{_in_sentence(label)} ({category})"

    def position(self, level: str) -> float:
        """Where a level sorts among the categories: a combined level just after its first member."""
        first = self.members(level)[0]
        return self.order.get(first, len(self.order)) + (0.5 if self.is_combined(level) else 0.0)


def _in_sentence(label: str) -> str:
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label
