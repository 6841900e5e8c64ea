"""Measure the classifier on labelled lines: precision, recall and F1 per top-level category and for
"is an ATT item", plus a confusion table (true label × predicted label)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hsmap.knowledge import Knowledge

NONE = "none"


@dataclass(frozen=True)
class Evaluation:
    per_category: pd.DataFrame  # category, precision, recall, f1, support
    overall: pd.DataFrame  # metric rows: is-ATT item P/R/F1, macro-F1, accuracy
    confusion: pd.DataFrame  # index: true top-level, columns: predicted top-level
    errors: pd.DataFrame  # the lines the classifier got wrong at top level

    @property
    def macro_f1(self) -> float:
        return float(self.per_category["f1"].mean())

    def figure(self, metric: str) -> float:
        return float(self.overall.set_index("metric").loc[metric, "value"])


def _top(labels: pd.Series, kb: Knowledge) -> pd.Series:
    mapping = {category: kb.top_level(category) for category in kb.categories}
    cleaned = labels.fillna("").astype("str").str.strip()
    return cleaned.map(mapping).fillna(NONE).where(cleaned != "", NONE)


def _prf(true: pd.Series, predicted: pd.Series) -> tuple[float, float, float]:
    hits = int((true & predicted).sum())
    precision = hits / int(predicted.sum()) if predicted.any() else 0.0
    recall = hits / int(true.sum()) if true.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(labels: pd.Series, predictions: pd.Series, kb: Knowledge) -> Evaluation:
    """Compare true labels with predicted categories (both category IDs or empty), at top level."""
    true, predicted = _top(labels, kb), _top(predictions, kb)
    rows = []
    for category in [c for c in kb.categories if kb.categories[c].parent is None]:
        if not (true == category).any():
            continue
        precision, recall, f1 = _prf(true == category, predicted == category)
        rows.append((category, precision, recall, f1, int((true == category).sum())))
    per_category = pd.DataFrame(rows, columns=["category", "precision", "recall", "f1", "support"])
    is_item_true, is_item_pred = true != NONE, predicted != NONE
    precision, recall, f1 = _prf(is_item_true, is_item_pred)
    overall = pd.DataFrame(
        {
            "metric": ["att_item_precision", "att_item_recall", "att_item_f1", "macro_f1", "accuracy"],
            "value": [precision, recall, f1, per_category["f1"].mean(), float((true == predicted).mean())],
        }
    )
    confusion = pd.crosstab(true.rename("true"), predicted.rename("predicted"))
    errors = pd.DataFrame({"true": true, "predicted": predicted})[true != predicted]
    return Evaluation(per_category, overall, confusion, errors)
