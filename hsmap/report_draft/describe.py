"""The description of a report row, from the goods descriptions of its declaration lines.

The template asks for the model, type or variant. A line's model is what the classifier's own text analysis
(:func:`hsmap.classify.matching.analyse_texts`) finds there as a system designation of the lexicon (``T-72``,
``CZ BREN 2``, ``Mi-24V``), in the lexicon's spelling; a line that names no designation but does name an arm
in other words gives its description as written, spaces tidied and cut short; a line that names nothing
(``AS PER INVOICE 2024-0117``) gives nothing. A row lists its distinct models, the one with most items
first, at most :data:`MAX_MODELS` of them. Ammunition and parts name the arm they are for, not themselves,
so their rows list the descriptions as written (:func:`line_texts`).
"""

from __future__ import annotations

import pandas as pd

from hsmap.classify.matching import analyse_texts
from hsmap.knowledge import Knowledge

MAX_MODELS = 3
MAX_TEXT = 60


def _tidy(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= MAX_TEXT else words[: MAX_TEXT - 1].rstrip() + "…"


def line_texts(descriptions: pd.Series) -> pd.Series:
    """Each goods description as written, spaces tidied and cut short."""
    return descriptions.fillna("").astype("str").map(_tidy).astype("str")


def line_models(descriptions: pd.Series, kb: Knowledge) -> pd.Series:
    """The model each goods description names (see the module docstring); ``""`` when it names none."""
    distinct = descriptions.fillna("").astype("str").unique()
    analysis = analyse_texts(list(distinct), kb)
    models: dict[str, str] = {}
    for text, evidence_id in zip(distinct, analysis.ids, strict=True):
        hits = analysis.evidence[evidence_id].hits
        designations = [hit.term for hit in sorted(hits, key=lambda hit: hit.position) if hit.kind == "designation"]
        if designations:
            models[text] = " / ".join(dict.fromkeys(designations))
        else:
            models[text] = _tidy(text) if hits else ""
    return descriptions.fillna("").astype("str").map(models).astype("str")


def row_description(models: pd.Series, items: pd.Series) -> str:
    """The distinct ``models`` of a row's lines, most items first (then most lines), at most
    :data:`MAX_MODELS`; the number of the others is added."""
    frame = pd.DataFrame({"model": models, "items": items.fillna(0.0), "lines": 1})
    frame = frame[frame["model"] != ""]
    if frame.empty:
        return ""
    ranked = frame.groupby("model", sort=False).sum().sort_values(["items", "lines"], ascending=False, kind="stable")
    shown = list(ranked.index[:MAX_MODELS])
    others = len(ranked) - len(shown)
    return "; ".join(shown) + (f"; and {others} other model{'s' if others > 1 else ''}" if others else "")
