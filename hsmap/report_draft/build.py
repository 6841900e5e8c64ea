"""A draft ATT annual report from customs lines: the report's table, the voluntary information, and every line
looked at with the decision taken on it, so that each figure can be traced to its declarations."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pycountry

from hsmap.chunking import CHUNK_ROWS
from hsmap.classify.editions import AUTO, in_force
from hsmap.countries import normalize_partner
from hsmap.customs import CANONICAL_COLUMNS, CustomsReading
from hsmap.errors import HsmapError
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.reconcile.aggregate import aggregate_customs
from hsmap.report import REPORT_FIELDS, Basis, Flow
from hsmap.report_draft.collect import Collected, Scope, collect_lines
from hsmap.report_draft.describe import line_models, line_texts, row_description
from hsmap.report_draft.rules import (
    COUNTED,
    INCLUDABLE,
    REVIEW_KINDS,
    VOLUNTARY,
    decide_lines,
    in_tables,
    suggested_categories,
)
from hsmap.review_list import FOR_REVIEW

REPORT_DRAFT_COLUMNS = (*REPORT_FIELDS, "source_lines")
LINE_TABLE_COLUMNS = (
    "line",
    "file",
    "row",
    "decision",
    "counted_in",
    "review",
    "reason",
    "included",
    "category",
    "row_category",
    "partner",
    "partner_iso3",
    "flow",
    "hs6",
    "description",
    "model",
    "unit",
    "items",
    "kg",
    "value",
    "currency",
    "confidence",
    "flags",
)
VOLUNTARY_COLUMNS = (
    "category",
    "category_name",
    "partner",
    "partner_iso3",
    "lines",
    "items",
    "kg",
    "value",
    "currency",
    "description",
    "source_lines",
)
MAX_IDS_TEXT = 30_000  # a spreadsheet cell holds 32,767 characters


class DraftError(HsmapError):
    """Options a draft report cannot be built with."""


@dataclass(frozen=True)
class DraftOptions:
    """What the draft is for (State, year, flow, basis) and how it decides.

    ``include`` names review kinds (:data:`~hsmap.report_draft.rules.INCLUDABLE`) whose lines are counted
    anyway; ``min_confidence`` is the classifier confidence below which a line is left for review; ``values``
    reports customs values; ``optional_rows`` keeps the optional sub-categories (IV.a …) as rows; ``public``
    is the report's may-be-made-public answer (None: not stated).
    """

    state: str
    year: int
    flow: Flow = "export"
    basis: Basis = "actual"
    include: frozenset[str] = frozenset()
    min_confidence: float = 0.6
    values: bool = False
    optional_rows: bool = False
    public: bool | None = None

    def __post_init__(self) -> None:
        if self.flow not in ("export", "import"):
            raise DraftError(f"flow {self.flow!r} is not export or import")
        unknown = sorted(set(self.include) - set(INCLUDABLE))
        if unknown:
            raise DraftError(f"--include {unknown[0]!r} is not a kind that can be counted ({', '.join(INCLUDABLE)})")
        if self.basis != "actual":
            raise DraftError(
                "customs declarations record actual transfers; a draft on the authorized basis needs licensing data"
            )
        if not 0.0 <= self.min_confidence <= 1.0:
            raise DraftError(f"--min-confidence {self.min_confidence} is not between 0 and 1")


@dataclass
class ReportDraft:
    """The draft: ``report`` in hsmap's report schema plus ``source_lines``; ``voluntary`` (Art. 3 and 4 per
    State and category); ``lines``, every line looked at with its decision; ``accounting``, where every line
    read went."""

    options: DraftOptions
    state_iso3: str
    state_name: str
    report: pd.DataFrame
    voluntary: pd.DataFrame
    lines: pd.DataFrame
    accounting: pd.DataFrame
    files: list[str] = field(default_factory=list)

    @property
    def nil(self) -> bool:
        return bool(self.report["nil_report"].all())

    @property
    def review(self) -> pd.DataFrame:
        return self.lines[self.lines["decision"] == FOR_REVIEW].reset_index(drop=True)

    @property
    def sources(self) -> pd.DataFrame:
        return self.lines[self.lines["decision"] != FOR_REVIEW].reset_index(drop=True)

    def review_by_kind(self) -> pd.DataFrame:
        """Per kind of question: the lines that raise it, whether they are counted, and what to decide."""
        kinds = self.lines["review"].str.split(";").explode()
        counts = kinds[kinds != ""].value_counts()
        rows = [
            (
                name,
                int(counts.get(name, 0)),
                "yes (--include)" if name in self.options.include else "no",
                kind.question,
            )
            for name, kind in REVIEW_KINDS.items()
            if counts.get(name, 0)
        ]
        return pd.DataFrame(rows, columns=["kind", "lines", "counted", "to decide"])

    def rules(self) -> list[str]:
        """The rules the figures follow, with this draft's options, in words a reporting officer can defend."""
        options = self.options
        counted = ", ".join(sorted(options.include)) or "none"
        return [
            f"Counted: the {options.year} {options.flow} lines (re-{options.flow}s only with --include re-export) "
            "of the reporting State whose category, as the classifier reads code and description, is an Art. 2(1) "
            "category, whose partner is a State, and that raise none of the questions listed for review. "
            f"Kinds of question counted anyway (--include): {counted}.",
            "An item is one unit of a quantity declared in pieces (u, p/st, NAR …; 1000u counts a thousand); a line "
            "in kilograms, another unit or without a quantity gives no number of items and is left for review.",
            "Rows: one per category of the template and State. The category is the classifier's most specific one; "
            "a line that names no sub-category is left for review; sub-categories the template is not known to "
            "have (confidence low in the knowledge base: IV.a/IV.b, V.a/V.b) are drafted at their parent"
            + (" — kept as rows here (--optional-rows)." if options.optional_rows else "."),
            "Ammunition (Art. 3) and parts and components (Art. 4) are not rows of the template's tables: they are "
            "listed apart as voluntary information.",
            (
                "Values: the customs value of the lines (FOB for exports, CIF for imports) in their currency, a row "
                "per currency; a contract value may differ."
                if options.values
                else "Values: not given (--values adds the customs value of the lines)."
            ),
            "Description: the models the declarations name (system designations of the lexicon), most items "
            "first; otherwise the goods description as written.",
            "Left to the officer: every line listed for review, the State of origin of re-exports, end users and "
            "other comments, whether the report may be made public, and national definitions (Annex 2).",
        ]


def draft_report_files(
    sources: Sequence[Path | str],
    options: DraftOptions,
    reading: CustomsReading | None = None,
    *,
    kb: Knowledge | None = None,
    client: Any = None,
    sheet: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ReportDraft:
    """Read the customs files as ``reading`` says (:func:`~hsmap.report_draft.collect.collect_lines`,
    classified on the fly when they carry no category; on a Dask ``client`` if given) and build the draft."""
    kb = kb or load_knowledge()
    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    state = normalize_partner(options.state)
    if state.status != "ok" or state.iso3 is None:
        raise DraftError(f"--state {options.state!r} is not a State hsmap can identify; give its ISO code")
    scope = Scope(state.iso3, options.year, options.flow)
    reading = reading or CustomsReading()
    collected = collect_lines(sources, scope, kb=kb, reading=reading, sheet=sheet, chunk_rows=chunk_rows, client=client)
    edition = reading.edition
    if edition == AUTO:  # the draft covers one year: the edition in force in it
        edition = int(in_force(np.array([options.year]), kb)[0])
    return build_report_draft(collected, options, kb, edition=edition)


def build_report_draft(collected: Collected, options: DraftOptions, kb: Knowledge, edition: int) -> ReportDraft:
    """The draft of the lines :func:`~hsmap.report_draft.collect.collect_lines` kept."""
    state_iso3 = normalize_partner(options.state).iso3 or options.state
    lines = collected.lines.reset_index(drop=True)
    lines = lines.assign(suggested=suggested_categories(lines["hs6"].astype("str"), kb, edition))
    lines = decide_lines(
        lines,
        kb,
        flow=options.flow,
        include=frozenset(options.include),
        min_confidence=options.min_confidence,
        optional_rows=options.optional_rows,
    )
    table_line = lines["category"].map(in_tables(kb)).fillna(False).astype(bool)
    lines["model"] = line_models(lines["description"], kb).where(table_line, line_texts(lines["description"]))
    lines["line"] = lines["file"] + ":" + lines["source_row"].astype("str")
    state_name = _state_name(state_iso3)
    report, report_keys = _report_rows(lines[lines["decision"] == COUNTED], lines, options, kb, state_name)
    voluntary, voluntary_keys = _voluntary_rows(lines[lines["decision"] == VOLUNTARY], kb)
    counted_in = pd.Series("", index=lines.index, dtype="str")
    counted_in[report_keys.index] = "report row " + report_keys.astype("str")
    counted_in[voluntary_keys.index] = "voluntary row " + voluntary_keys.astype("str")
    lines["counted_in"] = counted_in
    table = lines.rename(columns={"source_row": "row"})[list(LINE_TABLE_COLUMNS)]
    return ReportDraft(
        options=options,
        state_iso3=state_iso3,
        state_name=state_name,
        report=report,
        voluntary=voluntary,
        lines=table,
        accounting=_accounting(collected, lines, len(report) if not report["nil_report"].all() else 0, len(voluntary)),
        files=collected.files,
    )


@functools.cache
def _state_name(iso3: str) -> str:
    """The State's ISO 3166 name as a report writes it, or its code when the name would not read back as it."""
    country = pycountry.countries.get(alpha_3=iso3)
    name = str(getattr(country, "common_name", None) or getattr(country, "name", iso3))
    return name if normalize_partner(name).iso3 == iso3 else iso3


def compact_ids(files: pd.Series, rows: pd.Series) -> str:
    """Line ids as one short text: ``declarations.csv:2,9,40-43; other.csv:5`` (runs of rows as ranges)."""
    parts = []
    frame = pd.DataFrame({"file": files.to_numpy(), "row": rows.to_numpy()})
    for file, group in frame.groupby("file", sort=False):
        numbers = np.sort(group["row"].to_numpy())
        breaks = np.flatnonzero(np.diff(numbers) != 1) + 1
        runs = [
            f"{run[0]}" if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in np.split(numbers, breaks) if len(run)
        ]
        parts.append(f"{file}:{','.join(runs)}")
    text = "; ".join(parts)
    if len(text) > MAX_IDS_TEXT:
        text = text[: text.rfind(",", 0, MAX_IDS_TEXT)] + f" … ({len(frame):,} lines: see the sources sheet)"
    return text


def _sums(lines: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Lines, items, kilograms and values per row, summed by the reconciliation's own aggregation."""
    canonical = lines[list(CANONICAL_COLUMNS)].assign(category=lines["row_category"])
    partials = aggregate_customs([canonical]).partials.rename(columns={"partner_key": "partner_iso3"})
    partials["partner_iso3"] = partials["partner_iso3"].astype("str")
    measures = ["lines", "item_lines", "items", "kg_lines", "kg", "value_lines", "value"]
    return partials.groupby(keys, sort=False)[measures].sum().reset_index()


def _member_rows(lines: pd.DataFrame, sums: pd.DataFrame, keys: list[str]) -> pd.Series:
    """The ``sheet_row`` of ``sums`` each line is summed in."""
    own = lines[["row_category", "partner_iso3", "currency"]].rename(columns={"row_category": "category"})
    found = own[keys].merge(sums[[*keys, "sheet_row"]], on=keys, how="left")["sheet_row"]
    return pd.Series(found.to_numpy(), index=lines.index, dtype="int64")


def _row_order(frame: pd.DataFrame, kb: Knowledge) -> pd.DataFrame:
    """Rows in the template's order of categories, then by State name."""
    position = {cid: number for number, cid in enumerate(kb.categories)}
    ordered = frame.assign(_category=frame["category"].map(position), _name=frame["partner_iso3"].map(_state_name))
    return ordered.sort_values(["_category", "_name"], kind="stable").drop(columns=["_category", "_name"])


def _report_rows(
    counted: pd.DataFrame, lines: pd.DataFrame, options: DraftOptions, kb: Knowledge, state_name: str
) -> tuple[pd.DataFrame, pd.Series]:
    """The report table and, for each counted line, the spreadsheet row (header = 1) it is counted in."""
    base = {"reporting_state": state_name, "year": options.year, "flow": options.flow, "basis": options.basis}
    if counted.empty:
        pending = int((lines["decision"] == FOR_REVIEW).sum())
        note = f"nothing qualifies in the customs data; {pending} line(s) left for review" if pending else ""
        nil = {name: None for name in REPORT_DRAFT_COLUMNS} | base | {"nil_report": True, "withheld": False}
        nil |= {"public": options.public, "comments": note or None}
        return _typed(pd.DataFrame([nil], columns=list(REPORT_DRAFT_COLUMNS))), pd.Series(dtype="int64")
    keys = ["category", "partner_iso3", *(["currency"] if options.values else [])]
    sums = _row_order(_sums(counted, keys), kb).reset_index(drop=True)
    sums["sheet_row"] = np.arange(2, len(sums) + 2)
    member_rows = _member_rows(counted, sums, keys)
    groups = counted.groupby(member_rows, sort=True)
    pending = lines[lines["decision"] == FOR_REVIEW].groupby(["row_category", "partner_iso3"]).size()
    all_items = sums["item_lines"] == sums["lines"]
    all_values = options.values & (sums["value_lines"] == sums["lines"])
    report = pd.DataFrame(
        {
            **{name: [value] * len(sums) for name, value in base.items()},
            "category": sums["category"],
            "partner": sums["partner_iso3"].map(_state_name),
            "items": pd.array(np.where(all_items, sums["items"], np.nan), dtype="Float64").astype("Int64"),
            "value": sums["value"].where(all_values),
            "currency": sums["currency"].where(all_values) if options.values else None,
            "state_of_origin": None,
            "description": [row_description(group["model"], group["items"]) for _, group in groups],
            "comments": [
                _comments(group, int(pending.get((category, partner), 0)), options.values)
                for (_, group), category, partner in zip(groups, sums["category"], sums["partner_iso3"], strict=True)
            ],
            "nil_report": False,
            "withheld": False,
            "public": options.public,
            "national_definition": None,
            "source_lines": [compact_ids(group["file"], group["source_row"]) for _, group in groups],
        }
    )
    return _typed(report), member_rows


def _comments(group: pd.DataFrame, pending: int, values: bool) -> str | None:
    """What the officer should know about a row: lines counted by --include, unknown items or values, and
    lines of the same State and category still left for review."""
    notes = []
    included = group["included"].str.split(";").explode()
    for kind, count in included[included != ""].value_counts().sort_index().items():
        notes.append(f"{count} line(s) counted with --include {kind}")
    no_items = int(group["items"].isna().sum())
    if no_items:
        notes.append(f"number of items unknown for {no_items} line(s)")
    no_value = int(group["value"].isna().sum())
    if values and no_value:
        notes.append(f"value unknown for {no_value} line(s)")
    if pending:
        notes.append(f"{pending} more line(s) for this State and category left for review")
    return "; ".join(notes) or None


def _typed(report: pd.DataFrame) -> pd.DataFrame:
    """The report table with the column types :func:`hsmap.report.read_report` gives."""
    out = report[list(REPORT_DRAFT_COLUMNS)].copy()
    out["year"] = out["year"].astype("int64")
    out["items"] = pd.array(out["items"], dtype="Int64")
    out["value"] = out["value"].astype("float64")
    out["nil_report"] = out["nil_report"].astype(bool)
    out["withheld"] = out["withheld"].astype(bool)
    out["public"] = pd.array(out["public"], dtype="boolean")
    for name in ("reporting_state", "flow", "basis", "category", "partner", "currency", "state_of_origin"):
        out[name] = out[name].astype("object").where(out[name].notna(), None)
    for name in ("description", "comments", "national_definition", "source_lines"):
        out[name] = out[name].astype("object").where(out[name].notna() & out[name].ne(""), None)
    return out.reset_index(drop=True)


def _voluntary_rows(voluntary: pd.DataFrame, kb: Knowledge) -> tuple[pd.DataFrame, pd.Series]:
    """Ammunition and parts (Art. 3, 4) per category, State and currency; and each line's row there."""
    if voluntary.empty:
        empty = pd.DataFrame({name: pd.Series(dtype="object") for name in VOLUNTARY_COLUMNS})
        return empty, pd.Series(dtype="int64")
    keys = ["category", "partner_iso3", "currency"]
    sums = _row_order(_sums(voluntary, keys), kb).reset_index(drop=True)
    sums["sheet_row"] = np.arange(2, len(sums) + 2)
    member_rows = _member_rows(voluntary, sums, keys)
    groups = voluntary.groupby(member_rows, sort=True)
    table = pd.DataFrame(
        {
            "category": sums["category"],
            "category_name": sums["category"].map(kb.label),
            "partner": sums["partner_iso3"].map(_state_name),
            "partner_iso3": sums["partner_iso3"],
            "lines": sums["lines"].astype("int64"),
            "items": sums["items"].where(sums["item_lines"] > 0),
            "kg": sums["kg"].where(sums["kg_lines"] > 0),
            "value": sums["value"].where(sums["value_lines"] > 0),
            "currency": sums["currency"].where(sums["value_lines"] > 0),
            "description": [row_description(group["model"], group["items"]) for _, group in groups],
            "source_lines": [compact_ids(group["file"], group["source_row"]) for _, group in groups],
        }
    )
    return table, member_rows


def _accounting(collected: Collected, lines: pd.DataFrame, report_rows: int, voluntary_rows: int) -> pd.DataFrame:
    """Where every line read went; the lines after the first add up to it."""
    decisions = lines["decision"].value_counts()
    rows: list[tuple[str, int]] = [("lines read", collected.lines_read)]
    rows += sorted(collected.elsewhere.items(), key=lambda item: -item[1])
    rows += [
        (f"counted in the report ({report_rows} rows)", int(decisions.get(COUNTED, 0))),
        (f"voluntary information: ammunition, parts ({voluntary_rows} rows)", int(decisions.get(VOLUNTARY, 0))),
        ("left for review", int(decisions.get(FOR_REVIEW, 0))),
    ]
    return pd.DataFrame(rows, columns=["what", "lines"])
