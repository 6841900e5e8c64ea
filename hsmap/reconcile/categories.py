"""The category hierarchy as the comparison needs it: depths, ancestors, top levels, names and the treaty's
scope."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from hsmap.knowledge import Knowledge

ARTICLE_2_TOPS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
OUT_OF_SCOPE = ("ART3", "ART4")  # the annual report (ATT Art. 13(3)) covers the Art. 2(1) categories only


class CategoryTree:
    """The category hierarchy as plain dicts: depth, ancestors, top level, names."""

    def __init__(self, kb: Knowledge) -> None:
        self.ids = list(kb.categories)
        self.ancestors = {cid: kb.ancestors(cid) for cid in self.ids}
        self.depth = {cid: len(chain) - 1 for cid, chain in self.ancestors.items()}
        self.top = {cid: chain[-1] for cid, chain in self.ancestors.items()}
        self.label = {cid: kb.label(cid) for cid in self.ids}

    def at_depth(self, category: str, depth: int) -> str:
        chain = self.ancestors[category]
        return chain[max(len(chain) - 1 - depth, 0)]

    def ancestor_table(self, categories: Iterable[str]) -> pd.DataFrame:
        rows = [
            (category, ancestor, self.depth[ancestor])
            for category in set(categories)
            for ancestor in self.ancestors.get(category, [category])
        ]
        return pd.DataFrame(rows, columns=["category", "ancestor", "ancestor_depth"])

    def prose(self, category: str) -> str:
        """``assault rifles (VIII.SA.4)``: the name as it reads inside a sentence."""
        label = self.label.get(category, category)
        if len(label) > 1 and label[1].islower():
            label = label[0].lower() + label[1:]
        return f"{label} ({category})"
