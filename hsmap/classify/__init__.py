"""Classify customs declaration lines: the ATT category each may belong to, with confidence, flags and reason.

The declared code gives the candidate categories, the goods description confirms, narrows or contradicts them,
and the other cells of the line are checked on the way; work follows the distinct codes and texts, never the
lines.

Where things live: ``tokens`` (texts cut into the tokens terms are matched on), ``vocabulary`` (real words,
never read as typos), ``matching`` (the lexicon's terms and numbers found in the texts: the text evidence),
``decide`` (code and text evidence → category, confidence, flags, reason: :class:`Classifier`,
:func:`classify`), ``editions`` (each line read under the HS edition in force in its year:
:class:`EditionReader`), ``values`` (checks of the other cells: quantity, value, unit, currency, date,
partner), ``pipeline`` (file to file and folder to folder, in chunks with bounded memory) and ``evaluate``
(precision, recall and F1 on labelled lines).
"""

from hsmap.lazy import lazy_namespace

_HOMES = {  # public name → the module that defines it (imported on first use: a submodule costs only itself)
    "EXPLANATION_COLUMNS": "hsmap.classify.decide",
    "OUTPUT_COLUMNS": "hsmap.classify.decide",
    "Classifier": "hsmap.classify.decide",
    "ClassifySummary": "hsmap.classify.pipeline",
    "EditionReader": "hsmap.classify.editions",
    "classify": "hsmap.classify.decide",
    "classify_dataset": "hsmap.classify.pipeline",
    "classify_declarations": "hsmap.classify.pipeline",
    "classify_file": "hsmap.classify.pipeline",
    "shared_classifier": "hsmap.classify.decide",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_namespace(__name__, _HOMES)
