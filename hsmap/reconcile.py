"""Reconcile what customs recorded with what an ATT annual report says, cell by cell, and say why they differ.

A *cell* is (year, flow, partner State, ATT category). Customs lines are aggregated chunk by chunk into
partial sums (:class:`CustomsAggregate`), so memory follows the number of distinct cells, not of lines. The
report side is the tidy table of :func:`hsmap.report.read_report`. Both sides are brought to the category
level they both support — per category tree, never below the finest level the report uses, and within a
partner at the coarsest category either side gives (a report row ``VIII`` absorbs customs lines classified
``VIII.SA.4``) — and joined with an outer merge.

Each comparison row gets a status: ``match``, ``within-tolerance``, ``mismatch`` (with absolute and relative
differences, customs minus report, relative to the report), ``only-customs``, ``only-report`` or
``not-comparable`` (kilograms against items, a missing exchange rate, a partner that is not a State, a
withheld row …). Numbers of items are compared with items and values with values in one currency; the
explanation says why in words a reporting officer can act on, and names the known structural gaps:
authorised vs actual transfers, calendar-year timing, re-exports, withheld and aggregated report rows,
codes shared with civilian goods, intra-EU transfers that need no customs declaration, and Art. 3/4 items
that the annual report need not list.

Every input line is accounted for: customs lines end in a comparison cell, among the lines not classified
as ATT items, or among the excluded lines with a reason; every report row lands in exactly one comparison row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pycountry

from hsmap.customs import customs_chunks, iter_customs, partner_keys
from hsmap.dataset import is_dataset, iter_file, resolve_dataset
from hsmap.errors import InputError
from hsmap.io import CHUNK_ROWS, read_table
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.report import read_report

STATUSES = ("match", "within-tolerance", "mismatch", "only-customs", "only-report", "not-comparable")
ARTICLE_2_TOPS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
OUT_OF_SCOPE = ("ART3", "ART4")  # the annual report (ATT Art. 13(3)) covers the Art. 2(1) categories only
PARTIAL_KEYS = ["reporter_iso3", "year", "flow", "partner_key", "category", "hs6", "currency", "unit", "exclusion"]
_SUMS = [
    "lines",
    "item_lines",
    "items",
    "kg_lines",
    "kg_unit_lines",
    "kg",
    "none_lines",
    "other_lines",
    "bad_quantity",
    "bad_value",
    "value_lines",
    "value",
    "edge_lines",
    "shared_civil_lines",
    "mismatch_lines",
]
_FIRSTS = ["partner", "partner_status", "partner_note", "description"]
_MAX_PROBLEMS = 500
_EXACT_VALUE = 0.5  # values closer than half a currency unit are equal
_EPSILON = 1e-9

# EU membership (accession year, last year of membership) for the intra-EU gap: goods moving between member
# States need no customs declaration. Source: European Union, "EU enlargement" and "Countries" (europa.eu);
# the United Kingdom left on 31 January 2020 and customs formalities applied from 1 January 2021.
EU_MEMBERS: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("BEL", "DEU", "FRA", "ITA", "LUX", "NLD"), (1958, 9999)),
    **dict.fromkeys(("DNK", "IRL"), (1973, 9999)),
    "GBR": (1973, 2020),
    "GRC": (1981, 9999),
    **dict.fromkeys(("ESP", "PRT"), (1986, 9999)),
    **dict.fromkeys(("AUT", "FIN", "SWE"), (1995, 9999)),
    **dict.fromkeys(("CYP", "CZE", "EST", "HUN", "LTU", "LVA", "MLT", "POL", "SVK", "SVN"), (2004, 9999)),
    **dict.fromkeys(("BGR", "ROU"), (2007, 9999)),
    "HRV": (2013, 9999),
}

# What civilian goods share a code with each category tree, for the shared-code hint.
_SHARED_WITH = {
    "I": "civil and military vehicles",
    "II": "civil and military vehicles",
    "IV": "civil and combat aircraft",
    "V": "civil and attack helicopters",
    "VI": "civil ships and warships",
    "VIII": "sporting, hunting and military firearms",
    "ART3": "sporting and military ammunition",
    "ART4": "civil and military parts",
}


@dataclass(frozen=True)
class ReconcileOptions:
    """How strict the comparison is and how money is compared.

    ``tolerance`` (relative, e.g. 0.1 = 10 %) applies to items and, unless ``value_tolerance`` is given, to
    values. ``currency`` is the one currency values are compared in (default: the report's most common).
    ``rates`` has columns ``from``, ``to``, ``rate`` (1 ``from`` = ``rate`` ``to``) and optionally ``year``.
    """

    tolerance: float = 0.0
    value_tolerance: float | None = None
    currency: str | None = None
    rates: pd.DataFrame | None = None
    include_re_exports: bool = True

    @property
    def value_tol(self) -> float:
        return self.tolerance if self.value_tolerance is None else self.value_tolerance


# --- customs side: partial aggregates --------------------------------------------------------------------------


def _partial(chunk: pd.DataFrame) -> pd.DataFrame:
    """One canonical chunk (:func:`hsmap.customs.prepare_customs`) summed per partial key."""
    flags = chunk["flags"].astype("str")
    measures = pd.DataFrame(
        {
            "lines": 1,
            "item_lines": (chunk["unit"].eq("items") & chunk["items"].notna()).astype("int64"),
            "items": chunk["items"].fillna(0.0),
            "kg_lines": chunk["kg"].notna().astype("int64"),
            "kg_unit_lines": chunk["unit"].eq("kg").astype("int64"),
            "kg": chunk["kg"].fillna(0.0),
            "none_lines": chunk["unit"].eq("none").astype("int64"),
            "other_lines": chunk["unit"].str.startswith("other:").astype("int64"),
            "bad_quantity": chunk["bad_quantity"].astype("int64"),
            "bad_value": chunk["bad_value"].astype("int64"),
            "value_lines": chunk["value"].notna().astype("int64"),
            "value": chunk["value"].fillna(0.0),
            "edge_lines": chunk["month"].isin([1, 12]).astype("int64"),
            "shared_civil_lines": flags.str.contains("shared-civil", regex=False).astype("int64"),
            "mismatch_lines": flags.str.contains("code-text-mismatch", regex=False).astype("int64"),
            "first_row": chunk["source_row"],
        }
    )
    keys = chunk[PARTIAL_KEYS].astype({"year": "int64"})
    frame = pd.concat([keys, measures, chunk[_FIRSTS]], axis=1)
    return _combine(frame)


def _combine(frame: pd.DataFrame) -> pd.DataFrame:
    aggregations: dict[str, Any] = dict.fromkeys(_SUMS, "sum")
    aggregations |= {"first_row": "min"} | dict.fromkeys(_FIRSTS, "first")
    return frame.groupby(PARTIAL_KEYS, sort=False, dropna=False).agg(aggregations).reset_index()


@dataclass
class CustomsAggregate:
    """Customs lines summed per (reporter, year, flow, partner, category, HS6, currency, unit, exclusion).

    Feed it canonical chunks with :meth:`add`; it keeps partial sums, the partner spellings seen and the
    unreadable cells, so its size follows the distinct values, never the number of lines.
    """

    partials: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    partners: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    lines: int = 0
    problem_lines_not_listed: int = 0
    _pending: list[pd.DataFrame] = field(default_factory=list, repr=False)

    def add(self, chunk: pd.DataFrame) -> None:
        """Add one canonical chunk."""
        self.lines += len(chunk)
        self._pending.append(_partial(chunk))
        partners = chunk.groupby(
            ["partner", "partner_iso3", "partner_status", "partner_note"], sort=False, dropna=False
        ).size()
        self.partners = _sum_frames(self.partners, partners.rename("lines").reset_index(), "lines")
        bad = chunk[chunk["problem"] != ""]
        if len(bad):
            problems = bad.groupby("problem", sort=False).agg(
                lines=("source_row", "size"), first_row=("source_row", "min")
            )
            self._add_problems(problems.reset_index())
        if len(self._pending) >= 8:
            self._flush()

    def _add_problems(self, problems: pd.DataFrame) -> None:
        merged = pd.concat([self.problems, problems], ignore_index=True)
        merged = merged.groupby("problem", sort=False).agg(lines=("lines", "sum"), first_row=("first_row", "min"))
        merged = merged.reset_index().sort_values(["first_row"], kind="stable")
        if len(merged) > _MAX_PROBLEMS:
            self.problem_lines_not_listed += int(merged["lines"].iloc[_MAX_PROBLEMS:].sum())
            merged = merged.iloc[:_MAX_PROBLEMS]
        self.problems = merged

    def merge(self, other: CustomsAggregate) -> None:
        """Add the finished aggregate of the next part of a dataset (a file, a worker's piece). Its rows were
        numbered from 2 within the part; they are renumbered as if the parts were one table, in order."""
        offset = self.lines
        self.lines += other.lines
        self.problem_lines_not_listed += other.problem_lines_not_listed
        if len(other.partials):
            self._pending.append(other.partials.assign(first_row=other.partials["first_row"] + offset))
        if len(other.partners):
            self.partners = _sum_frames(self.partners, other.partners, "lines")
        if len(other.problems):
            self._add_problems(other.problems.assign(first_row=other.problems["first_row"] + offset))
        if len(self._pending) >= 8:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            frames = [self.partials, *self._pending] if len(self.partials) else self._pending
            self.partials = _combine(pd.concat(frames, ignore_index=True))
            self._pending = []

    def finish(self) -> CustomsAggregate:
        """Combine what is pending; call once after the last chunk (``aggregate_customs`` does)."""
        self._flush()
        if self.partials.empty:
            self.partials = _combine(_empty_partial())
        if self.partners.empty:
            self.partners = pd.DataFrame(columns=["partner", "partner_iso3", "partner_status", "partner_note", "lines"])
        if self.problems.empty:
            self.problems = pd.DataFrame({"problem": pd.Series(dtype="str"), "lines": [], "first_row": []})
        return self


def _sum_frames(total: pd.DataFrame, new: pd.DataFrame, column: str) -> pd.DataFrame:
    if total.empty:
        return new
    keys = [name for name in new.columns if name != column]
    return (
        pd.concat([total, new], ignore_index=True).groupby(keys, sort=False, dropna=False)[column].sum().reset_index()
    )


def _empty_partial() -> pd.DataFrame:
    columns: dict[str, pd.Series] = {key: pd.Series(dtype="str") for key in PARTIAL_KEYS}
    columns["year"] = pd.Series(dtype="int64")
    columns |= {name: pd.Series(dtype="float64") for name in _SUMS}
    columns["first_row"] = pd.Series(dtype="int64")
    columns |= {name: pd.Series(dtype="str") for name in _FIRSTS}
    return pd.DataFrame(columns)


def aggregate_customs(chunks: Iterable[pd.DataFrame]) -> CustomsAggregate:
    """Sum canonical customs chunks (from :func:`hsmap.customs.iter_customs`) into a :class:`CustomsAggregate`."""
    aggregate = CustomsAggregate()
    for chunk in chunks:
        aggregate.add(chunk)
    return aggregate.finish()


def combine_aggregates(parts: Iterable[CustomsAggregate]) -> CustomsAggregate:
    """The aggregates of a dataset's parts, in dataset order, as one (:meth:`CustomsAggregate.merge`): what
    partitions or workers summed on their own adds up to what one pass over every line gives."""
    total = CustomsAggregate()
    for part in parts:
        total.merge(part)
    return total.finish()


# --- categories ------------------------------------------------------------------------------------------------


class _Tree:
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


# --- money --------------------------------------------------------------------------------------------------------


def normalise_rates(rates: pd.DataFrame | None, file: str = "rate table") -> pd.DataFrame:
    """A rate table with columns ``year`` (0 = any year), ``from``, ``to``, ``rate``; InputError if malformed."""
    if rates is None or rates.empty:
        return pd.DataFrame({"year": pd.Series(dtype="int64"), "from": [], "to": [], "rate": []})
    columns = {str(name).strip().lower(): name for name in rates.columns}
    missing = [name for name in ("from", "to", "rate") if name not in columns]
    if missing:
        raise InputError(
            file,
            1,
            None,
            f"a rate table needs the columns from, to, rate (and optionally year); missing: {', '.join(missing)}",
        )
    table = pd.DataFrame(
        {
            "year": pd.to_numeric(rates[columns["year"]], errors="coerce").fillna(0).astype("int64")
            if "year" in columns
            else 0,
            "from": rates[columns["from"]].astype("str").str.strip().str.upper(),
            "to": rates[columns["to"]].astype("str").str.strip().str.upper(),
            "rate": pd.to_numeric(rates[columns["rate"]], errors="coerce"),
        }
    )
    bad = table["rate"].isna() | (table["rate"] <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError(file, row, str(columns["rate"]), "the rate must be a number above 0")
    bad_code = ~table["from"].str.fullmatch(r"[A-Z]{3}") | ~table["to"].str.fullmatch(r"[A-Z]{3}")
    if bad_code.any():
        row = int(np.flatnonzero(bad_code.to_numpy())[0]) + 2
        raise InputError(file, row, None, "from and to must be ISO 4217 currency codes such as EUR or USD")
    return table


def conversion_factors(pairs: pd.DataFrame, target: str, rates: pd.DataFrame) -> pd.Series:
    """Factor turning an amount in ``currency`` (of ``year``) into ``target``: 1 for the same currency, a rate
    of that year, else a rate without a year, else the inverse of the opposite rate; NaN when none is known."""
    lookup: dict[tuple[int, str, str], float] = {}
    for year, source, dest, rate in rates[["year", "from", "to", "rate"]].itertuples(index=False):
        lookup.setdefault((int(year), dest, source), 1.0 / rate)
    for year, source, dest, rate in rates[["year", "from", "to", "rate"]].itertuples(index=False):
        lookup[(int(year), source, dest)] = rate  # a direct rate wins over an inverted one

    def factor(year: int, currency: str) -> float:
        if currency == target:
            return 1.0
        for key in ((year, currency, target), (0, currency, target)):
            if key in lookup:
                return lookup[key]
        return float("nan")

    distinct = pairs[["year", "currency"]].drop_duplicates()
    factors = {
        (int(year), str(currency)): factor(int(year), str(currency))
        for year, currency in distinct.itertuples(index=False)
    }
    keys = list(zip(pairs["year"].astype("int64"), pairs["currency"].astype("str"), strict=True))
    return pd.Series([factors[key] for key in keys], index=pairs.index, dtype="float64")


# --- the result ---------------------------------------------------------------------------------------------------


@dataclass
class Reconciliation:
    """The comparison table and everything needed to account for every input line."""

    comparison: pd.DataFrame
    customs_unmatched: pd.DataFrame
    customs_not_att: pd.DataFrame
    report_unmatched: pd.DataFrame
    partners: pd.DataFrame
    problems: pd.DataFrame
    accounting: pd.DataFrame
    settings: dict[str, str]

    def by_status(self) -> pd.DataFrame:
        """Comparison rows, customs lines and report rows per status, in the order of :data:`STATUSES`."""
        table = self.comparison.groupby("status", observed=False).agg(
            rows=("status", "size"), customs_lines=("customs_lines", "sum"), report_rows=("report_row_count", "sum")
        )
        return table.reindex(list(STATUSES), fill_value=0).rename_axis("status").reset_index()

    def by_category(self) -> pd.DataFrame:
        """Per top-level category: totals on both sides and the number of rows of each status."""
        return self._breakdown("top_category")

    def by_partner(self) -> pd.DataFrame:
        """Per partner: totals on both sides and the number of rows of each status."""
        return self._breakdown("partner")

    def _breakdown(self, key: str) -> pd.DataFrame:
        frame = self.comparison
        totals = frame.groupby(key, sort=True).agg(
            customs_items=("customs_items", "sum"),
            report_items=("report_items", "sum"),
            customs_value=("customs_value", "sum"),
            report_value=("report_value", "sum"),
            customs_lines=("customs_lines", "sum"),
            report_rows=("report_row_count", "sum"),
        )
        counts = pd.crosstab(frame[key], frame["status"]).reindex(columns=list(STATUSES), fill_value=0)
        table = totals.join(counts).fillna(0).reset_index()
        if key == "top_category":  # the treaty's order: I … VIII, then Art. 3 and Art. 4
            order = {top: position for position, top in enumerate((*ARTICLE_2_TOPS, *OUT_OF_SCOPE))}
            table = table.iloc[table[key].map(order).fillna(len(order)).argsort(kind="stable")]
        return table.reset_index(drop=True)

    @property
    def status_counts(self) -> dict[str, int]:
        return {row.status: int(row.rows) for row in self.by_status().itertuples(index=False)}


# --- the comparison ------------------------------------------------------------------------------------------------


def reconcile(
    customs: CustomsAggregate,
    report: pd.DataFrame,
    kb: Knowledge,
    options: ReconcileOptions | None = None,
) -> Reconciliation:
    """Compare aggregated customs data with an ATT report (the frame of :func:`hsmap.report.read_report`)."""
    options = options or ReconcileOptions()
    tree = _Tree(kb)
    rates = normalise_rates(options.rates)
    rep = _prepare_report(report, tree)
    parts = _prepare_partials(customs.partials, rep, tree, options)
    target = _target_currency(options.currency, rep, parts)

    excluded = parts[parts["exclusion"] != ""].copy()
    usable = parts[parts["exclusion"] == ""]
    not_att = usable[usable["category"] == ""].copy()
    cells_in = usable[usable["category"] != ""].copy()
    compare_rows = rep[rep["role"] == "compare"].copy()

    cells_in["capped"] = _capped(cells_in, rep, tree)
    mapping = _comparison_levels(cells_in, compare_rows, tree)
    on = ["year", "flow", "partner_key"]
    cells_in = cells_in.merge(mapping, how="left", left_on=[*on, "capped"], right_on=[*on, "member"])
    cells_in["cmp"] = cells_in["cmp"].fillna(cells_in["capped"]).astype("str")
    compare_rows = compare_rows.merge(mapping, how="left", left_on=[*on, "category"], right_on=[*on, "member"])
    compare_rows["cmp"] = compare_rows["cmp"].fillna(compare_rows["category"]).astype("str")

    cells_in = _convert_customs(cells_in, target, rates)
    customs_cells = _customs_cells(cells_in, tree, kb)
    report_cells = _report_cells(compare_rows, target, rates)
    merged = customs_cells.merge(report_cells, how="outer", on=[*on, "cmp"])
    merged["kind"] = "cell"
    special = _special_report_rows(rep[rep["role"] != "compare"], target, rates)
    table = _fill_defaults(pd.concat([merged, special], ignore_index=True))
    table["top_category"] = table["cmp"].map(tree.top).fillna("").astype("str")
    table["cell_id"] = np.arange(len(table))
    table = _statuses(table, rep, options)
    context = _Context(tree, table, rep, not_att, excluded, target, options)
    explained = [context.explain(row) for row in table.itertuples(index=False)]
    table["explanation"] = [text for text, _ in explained]
    table["gaps"] = [gaps for _, gaps in explained]

    return Reconciliation(
        comparison=_comparison_table(table, tree, target).drop(columns=["cell_id"]),
        customs_unmatched=_customs_unmatched(cells_in, excluded, table),
        customs_not_att=_not_att_table(not_att),
        report_unmatched=_report_unmatched(rep, table),
        partners=_partners_table(customs.partners, rep),
        problems=customs.problems.copy(),
        accounting=_accounting(customs, excluded, not_att, cells_in, rep),
        settings={
            "tolerance (items)": f"{options.tolerance:g}",
            "tolerance (value)": f"{options.value_tol:g}",
            "currency": target or "(none)",
            "re-exports": "compared with exports" if options.include_re_exports else "left out",
            "reporting state": ", ".join(sorted(set(rep["reporting_state_iso3"]) - {""})) or "(unknown)",
        },
    )


def _prepare_report(report: pd.DataFrame, tree: _Tree) -> pd.DataFrame:
    """The report rows with their join key, category tree and role in the comparison."""
    rep = report.copy()
    for name in ("category", "partner", "currency", "description", "comments", "state_of_origin"):
        rep[name] = rep[name].fillna("").astype("str")
    rep["reporting_state_iso3"] = rep["reporting_state_iso3"].fillna("").astype("str")
    rep["year"] = rep["year"].astype("int64")
    rep["partner_key"] = partner_keys(rep["partner"], rep).to_numpy()
    rep["top"] = rep["category"].map(tree.top).fillna("").astype("str")
    transfers = rep[~rep["nil_report"]]
    actual = transfers[transfers["basis"] == "actual"].groupby(["year", "flow"]).size()
    bases = {key: "actual" for key in actual.index}
    for key in transfers.groupby(["year", "flow"]).size().index:
        bases.setdefault(key, "authorized")
    rep["cmp_basis"] = [bases.get(key, "actual") for key in zip(rep["year"], rep["flow"], strict=True)]
    ok = rep["partner_status"].astype("str").eq("ok")
    role = np.select(
        [
            rep["nil_report"].to_numpy(),
            (rep["withheld"] & (~ok | rep["category"].eq(""))).to_numpy(),
            (~ok | rep["category"].eq("")).to_numpy(),
            rep["basis"].ne(rep["cmp_basis"]).to_numpy(),
        ],
        ["nil", "withheld", "unresolved", "other-basis"],
        default="compare",
    )
    rep["role"] = role
    return rep


def _prepare_partials(
    partials: pd.DataFrame, rep: pd.DataFrame, tree: _Tree, options: ReconcileOptions
) -> pd.DataFrame:
    """Map re-exports onto exports, and give a reason to lines the report cannot be compared with."""
    parts = partials.copy()
    parts["re_export_lines"] = np.where(parts["flow"].isin(["re-export", "re-import"]), parts["lines"], 0)
    reason = parts["exclusion"].astype("str")

    def mark(mask: pd.Series, text: pd.Series | str) -> pd.Series:
        return reason.mask(mask & (reason == ""), text)

    re_flows = parts["flow"].isin(["re-export", "re-import"])
    if not options.include_re_exports:
        reason = mark(re_flows, parts["flow"] + " (left out by --no-re-exports)")
    parts["flow"] = parts["flow"].replace({"re-export": "export", "re-import": "import"})
    states = set(rep["reporting_state_iso3"]) - {""}
    if states:
        other = parts["reporter_iso3"].ne("") & ~parts["reporter_iso3"].isin(states)
        reason = mark(other, "reporter " + parts["reporter_iso3"] + " is not the reporting State of the report")
    unknown = parts["category"].ne("") & ~parts["category"].isin(tree.ids)
    reason = mark(unknown, "unknown ATT category '" + parts["category"] + "'")
    covered = set(zip(rep["year"], rep["flow"], strict=True))
    keys = pd.Series(list(zip(parts["year"], parts["flow"], strict=True)), index=parts.index, dtype=object)
    outside = ~keys.isin(covered) & parts["flow"].ne("")
    reason = mark(outside, "the report has no " + parts["flow"] + " rows for " + parts["year"].astype("str"))
    parts["exclusion"] = reason.astype("str")
    parts["top"] = parts["category"].map(tree.top).fillna("").astype("str")
    return parts


def _target_currency(wanted: str | None, rep: pd.DataFrame, parts: pd.DataFrame) -> str:
    """The one currency values are compared in: asked for, else the report's most common, else customs'."""
    if wanted:
        return wanted.strip().upper()
    report_currencies = rep.loc[rep["value"].notna() & rep["currency"].ne(""), "currency"]
    if len(report_currencies):
        return str(report_currencies.value_counts().index[0])
    with_values = parts[(parts["value_lines"] > 0) & parts["currency"].ne("")]
    if len(with_values):
        return str(with_values.groupby("currency")["value_lines"].sum().idxmax())
    return ""


def _capped(cells: pd.DataFrame, rep: pd.DataFrame, tree: _Tree) -> pd.Series:
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


def _comparison_levels(cells: pd.DataFrame, compare_rows: pd.DataFrame, tree: _Tree) -> pd.DataFrame:
    """Per (year, flow, partner): each category → the coarsest category of the same branch either side gives.

    Both sides' categories form a set S per partner; a category is compared at its shallowest ancestor (or
    itself) in S, so ``VIII.SA.4`` and ``VIII.SA.1`` on one side meet ``VIII.SA`` on the other at ``VIII.SA``.
    """
    on = ["year", "flow", "partner_key"]
    members = pd.concat(
        [
            cells[[*on, "capped"]].rename(columns={"capped": "member"}),
            compare_rows[[*on, "category"]].rename(columns={"category": "member"}),
        ],
        ignore_index=True,
    ).drop_duplicates()
    if members.empty:
        return pd.DataFrame({name: pd.Series(dtype="str") for name in [*on, "member", "cmp"]}).astype({"year": "int64"})
    ancestors = tree.ancestor_table(members["member"]).rename(columns={"category": "member"})
    pairs = members.merge(ancestors, on="member")
    present = members.rename(columns={"member": "ancestor"})
    pairs = pairs.merge(present, on=[*on, "ancestor"])
    best = pairs.sort_values("ancestor_depth", kind="stable").drop_duplicates([*on, "member"])
    return best[[*on, "member", "ancestor"]].rename(columns={"ancestor": "cmp"}).reset_index(drop=True)


def _convert_customs(cells: pd.DataFrame, target: str, rates: pd.DataFrame) -> pd.DataFrame:
    cells = cells.copy()
    factor = conversion_factors(cells, target, rates) if len(cells) else pd.Series(dtype="float64")
    has_value = cells["value_lines"] > 0
    cells["value_cmp"] = (cells["value"] * factor).where(has_value, 0.0).fillna(0.0)
    cells["unconvertible_lines"] = np.where(has_value & factor.isna(), cells["value_lines"], 0)
    return cells


def _joined(values: Iterable[object], limit: int = 6) -> str:
    unique = list(dict.fromkeys(str(value) for value in values if str(value) not in ("", "nan")))
    return ", ".join(unique[:limit]) + (f" … (+{len(unique) - limit})" if len(unique) > limit else "")


def _shared_codes(kb: Knowledge) -> list[tuple[str, str]]:
    """(code digits, top-level category) of every link a civilian good shares (``att_hs.csv``)."""
    shared = kb.links[kb.links["relation"] == "shared-civil"]
    tops = {cid: kb.top_level(cid) for cid in kb.categories}
    return sorted(
        {
            (str(code).replace(".", ""), tops[category])
            for code, category in zip(shared["code"], shared["category"], strict=True)
        }
    )


def _customs_cells(cells: pd.DataFrame, tree: _Tree, kb: Knowledge) -> pd.DataFrame:
    """Customs partials summed per comparison cell, with the codes, categories and units they came from."""
    keys = ["year", "flow", "partner_key", "cmp"]
    if cells.empty:
        return pd.DataFrame({name: pd.Series(dtype="int64" if name == "year" else "str") for name in keys})
    shared = _shared_codes(kb)
    distinct = cells[["hs6", "top"]].drop_duplicates()
    shared_pairs = {
        (hs6, top)
        for hs6, top in distinct.itertuples(index=False)
        if any(str(hs6).replace(".", "").startswith(code) and top == code_top for code, code_top in shared)
    }
    cells = cells.assign(
        shared_code=[
            hs6 if ((hs6, top) in shared_pairs or lines > 0) else ""
            for hs6, top, lines in zip(cells["hs6"], cells["top"], cells["shared_civil_lines"], strict=True)
        ],
        other_unit=cells["unit"].where(cells["unit"].str.startswith("other:"), "").str.slice(6),
        bad_currency=cells["currency"].where(cells["unconvertible_lines"] > 0, ""),
    )
    sums = [name for name in _SUMS if name != "value"] + ["value_cmp", "unconvertible_lines", "re_export_lines"]
    grouped = cells.groupby(keys, sort=False)
    out = grouped[sums].sum()
    out["first_row"] = grouped["first_row"].min()
    for name in _FIRSTS:
        out[name] = grouped[name].first()
    by_code = cells.groupby([*keys, "hs6"], sort=False)["lines"].sum().reset_index()
    by_code = by_code.sort_values([*keys, "lines", "hs6"], ascending=[True] * 4 + [False, True])
    out["hs_codes"] = by_code.groupby(keys, sort=False)["hs6"].agg(
        lambda codes: _joined(c or "(no code)" for c in codes)
    )
    out["hs_lines"] = by_code.groupby(keys, sort=False).apply(
        lambda frame: ", ".join(
            f"{code or '(no code)'} ({lines})" for code, lines in zip(frame["hs6"], frame["lines"], strict=True)
        ),
        include_groups=False,
    )
    out["customs_categories"] = grouped["category"].agg(_joined)
    out["other_units"] = grouped["other_unit"].agg(_joined)
    out["shared_codes"] = grouped["shared_code"].agg(_joined)
    out["bad_currencies"] = grouped["bad_currency"].agg(_joined)
    out = out.rename(columns={name: f"c_{name}" for name in out.columns})
    return out.reset_index()


def _report_cells(rows: pd.DataFrame, target: str, rates: pd.DataFrame) -> pd.DataFrame:
    """Report rows summed per comparison cell."""
    keys = ["year", "flow", "partner_key", "cmp"]
    if rows.empty:
        return pd.DataFrame({name: pd.Series(dtype="int64" if name == "year" else "str") for name in keys})
    rows = _convert_report(rows, target, rates)
    grouped = rows.groupby(keys, sort=False)
    out = pd.DataFrame(
        {
            "rows": grouped.size(),
            "source_rows": grouped["source_row"].agg(lambda numbers: ", ".join(str(n) for n in numbers)),
            "items": grouped["items"].sum(min_count=1).astype("float64"),
            "items_missing": grouped["items"].agg(lambda items: int(items.isna().sum())),
            "value": grouped["value_cmp"].sum(min_count=1),
            "value_missing": grouped["value"].agg(lambda values: int(values.isna().sum())),
            "unconvertible": grouped["unconvertible"].sum(),
            "bad_currencies": grouped["bad_currency"].agg(_joined),
            "categories": grouped["category"].agg(_joined),
            "partner": grouped["partner"].first(),
            "descriptions": grouped["description"].agg(lambda texts: _joined(texts, 3)),
            "comments": grouped["comments"].agg(lambda texts: " | ".join(dict.fromkeys(t for t in texts if t))),
            "origin": grouped["state_of_origin"].agg(_joined),
            "withheld": grouped["withheld"].sum(),
            "basis": grouped["basis"].first(),
            "reporter": grouped["reporting_state_iso3"].first(),
        }
    )
    out = out.rename(columns={name: f"r_{name}" for name in out.columns})
    return out.reset_index()


def _convert_report(rows: pd.DataFrame, target: str, rates: pd.DataFrame) -> pd.DataFrame:
    rows = rows.copy()
    factor = conversion_factors(rows, target, rates) if len(rows) else pd.Series(dtype="float64")
    rows["value_cmp"] = rows["value"] * factor
    rows["unconvertible"] = (rows["value"].notna() & factor.isna()).astype("int64")
    rows["bad_currency"] = rows["currency"].where(rows["unconvertible"] > 0, "")
    return rows


def _special_report_rows(rows: pd.DataFrame, target: str, rates: pd.DataFrame) -> pd.DataFrame:
    """Nil, withheld, unresolved-partner and other-basis report rows: one comparison row each."""
    if rows.empty:
        return pd.DataFrame({"kind": pd.Series(dtype="str")})
    rows = _convert_report(rows, target, rates)
    return pd.DataFrame(
        {
            "year": rows["year"].to_numpy(),
            "flow": rows["flow"].to_numpy(),
            "partner_key": rows["partner_key"].to_numpy(),
            "cmp": rows["category"].to_numpy(),
            "kind": rows["role"].to_numpy(),
            "r_rows": 1,
            "r_source_rows": rows["source_row"].astype("str").to_numpy(),
            "r_items": rows["items"].astype("float64").to_numpy(),
            "r_items_missing": rows["items"].isna().astype("int64").to_numpy(),
            "r_value": rows["value_cmp"].to_numpy(),
            "r_value_missing": rows["value"].isna().astype("int64").to_numpy(),
            "r_unconvertible": rows["unconvertible"].to_numpy(),
            "r_bad_currencies": rows["bad_currency"].to_numpy(),
            "r_categories": rows["category"].to_numpy(),
            "r_partner": rows["partner"].to_numpy(),
            "r_descriptions": rows["description"].to_numpy(),
            "r_comments": rows["comments"].to_numpy(),
            "r_origin": rows["state_of_origin"].to_numpy(),
            "r_withheld": rows["withheld"].astype("int64").to_numpy(),
            "r_basis": rows["basis"].to_numpy(),
            "r_reporter": rows["reporting_state_iso3"].to_numpy(),
            "r_note": rows["partner_note"].fillna("").astype("str").to_numpy(),
        }
    )


_COUNT_COLUMNS = [f"c_{name}" for name in _SUMS if name != "value"] + [
    "c_value_cmp",
    "c_unconvertible_lines",
    "c_re_export_lines",
    "r_rows",
    "r_items_missing",
    "r_value_missing",
    "r_unconvertible",
    "r_withheld",
]
_TEXT_COLUMNS = [
    "partner_key",
    "cmp",
    "kind",
    "c_partner",
    "c_partner_status",
    "c_partner_note",
    "c_description",
    "c_hs_codes",
    "c_hs_lines",
    "c_customs_categories",
    "c_other_units",
    "c_shared_codes",
    "c_bad_currencies",
    "r_source_rows",
    "r_bad_currencies",
    "r_categories",
    "r_partner",
    "r_descriptions",
    "r_comments",
    "r_origin",
    "r_basis",
    "r_reporter",
    "r_note",
]


def _fill_defaults(table: pd.DataFrame) -> pd.DataFrame:
    for name in _COUNT_COLUMNS:
        table[name] = table[name].fillna(0) if name in table else 0
    for name in _TEXT_COLUMNS:
        table[name] = table[name].fillna("").astype("str") if name in table else ""
    for name in ("r_items", "r_value", "c_first_row"):
        if name not in table:
            table[name] = np.nan
    table["year"] = table["year"].astype("int64")
    table["flow"] = table["flow"].astype("str")
    return table.reset_index(drop=True)


def _measure(
    customs: pd.Series, report: pd.Series, comparable: pd.Series, informative: pd.Series, tolerance: float, exact: float
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(status, difference, relative difference) of one measure; the relative difference is to the report."""
    diff = (customs - report).where(comparable)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = diff / report.where(report != 0)
    rel = rel.mask(comparable & (report == 0) & (diff.abs() <= exact), 0.0)
    equal = diff.abs() <= exact
    within = rel.abs() <= tolerance + _EPSILON
    status = np.select(
        [~comparable & informative, ~comparable, equal, within],
        ["not-comparable", "", "match", "within-tolerance"],
        default="mismatch",
    )
    return pd.Series(status, index=customs.index, dtype="str"), diff, rel


_RANK = {"": 0, "not-comparable": 0, "match": 1, "within-tolerance": 2, "mismatch": 3}
_OF_RANK = {0: "not-comparable", 1: "match", 2: "within-tolerance", 3: "mismatch"}


def _statuses(table: pd.DataFrame, rep: pd.DataFrame, options: ReconcileOptions) -> pd.DataFrame:
    has_c = table["c_lines"] > 0
    has_r = table["r_rows"] > 0
    cell = table["kind"] == "cell"
    resolved = ~table["partner_key"].str.match(r"^[?*]|^$")
    report_tops = set(zip(rep["year"], rep["flow"], rep["top"], strict=True))
    top_reported = pd.Series(
        [key in report_tops for key in zip(table["year"], table["flow"], table["top_category"], strict=True)],
        index=table.index,
    )
    table["out_of_scope"] = cell & table["top_category"].isin(OUT_OF_SCOPE) & ~top_reported & ~has_r
    both = cell & has_c & has_r & resolved

    items_comparable = both & (table["c_item_lines"] == table["c_lines"]) & (table["r_items_missing"] == 0)
    items_informative = both & ((table["c_item_lines"] > 0) | table["r_items"].notna())
    table["items_status"], table["items_diff"], table["items_rel_diff"] = _measure(
        table["c_items"], table["r_items"], items_comparable, items_informative, options.tolerance, _EPSILON
    )
    value_comparable = (
        both
        & (table["c_value_lines"] == table["c_lines"])
        & (table["c_unconvertible_lines"] == 0)
        & (table["r_value_missing"] == 0)
        & (table["r_unconvertible"] == 0)
    )
    value_informative = both & ((table["c_value_lines"] > 0) | (table["r_value_missing"] < table["r_rows"]))
    table["value_status"], table["value_diff"], table["value_rel_diff"] = _measure(
        table["c_value_cmp"], table["r_value"], value_comparable, value_informative, options.value_tol, _EXACT_VALUE
    )
    rank = np.maximum(table["items_status"].map(_RANK), table["value_status"].map(_RANK))
    from_measures = rank.map(_OF_RANK)

    art2 = table[cell & has_c & table["top_category"].isin(ARTICLE_2_TOPS) & resolved]
    active = set(zip(art2["year"], art2["flow"], strict=True))
    nil_contradicted = pd.Series(
        [key in active for key in zip(table["year"], table["flow"], strict=True)], index=table.index
    )
    status = np.select(
        [
            table["kind"].eq("nil") & nil_contradicted,
            table["kind"].eq("nil"),
            ~cell,
            ~resolved,
            table["out_of_scope"],
            has_c & ~has_r,
            ~has_c & has_r,
        ],
        ["mismatch", "match", "not-comparable", "not-comparable", "not-comparable", "only-customs", "only-report"],
        default=from_measures,
    )
    table["status"] = pd.Series(status, index=table.index, dtype="str")
    return table


# --- explanations -------------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _plural(count: float, word: str, plural: str | None = None) -> str:
    return f"{_number(count)} {word if count == 1 else (plural or word + 's')}"


def _percent(rel: float) -> str:
    return "" if rel is None or not np.isfinite(rel) else f" ({rel:+.1%})"


def _eu_member(iso3: str, year: int) -> bool:
    span = EU_MEMBERS.get(iso3)
    return span is not None and span[0] <= year <= span[1]


class _Context:
    """What an explanation may point at beyond its own row: the other rows of the same partner, the lines not
    classified as ATT items, the withheld report rows, customs lines of years the report does not cover."""

    def __init__(
        self,
        tree: _Tree,
        table: pd.DataFrame,
        rep: pd.DataFrame,
        not_att: pd.DataFrame,
        excluded: pd.DataFrame,
        currency: str,
        options: ReconcileOptions,
    ) -> None:
        self.tree, self.currency, self.options = tree, currency, options
        cells = table[table["kind"] == "cell"]
        unmatched = cells[(cells["status"] == "only-customs") | cells["out_of_scope"]]
        self.only_customs = self._index(unmatched, ["year", "flow", "partner_key"])
        self.only_customs_by_top = self._index(
            cells[cells["status"] == "only-customs"], ["year", "flow", "top_category"]
        )
        self.only_report = self._index(cells[cells["status"] == "only-report"], ["year", "flow", "partner_key"])
        art2 = cells[(cells["c_lines"] > 0) & cells["top_category"].isin(ARTICLE_2_TOPS)]
        self.art2 = art2.groupby(["year", "flow"]).agg(lines=("c_lines", "sum"), cats=("cmp", _joined)).to_dict("index")
        self.not_att = self._index(
            not_att.sort_values("lines", ascending=False, kind="stable"), ["year", "flow", "partner_key"]
        )
        withheld = rep[rep["role"] == "withheld"]
        self.withheld = self._index(withheld, ["year", "flow"])
        outside = excluded[excluded["exclusion"].str.startswith("the report has no") & excluded["category"].ne("")]
        self.outside = self._index(outside, ["flow", "partner_key", "top"])

    @staticmethod
    def _index(frame: pd.DataFrame, keys: list[str]) -> dict[tuple[Any, ...], list[Any]]:
        found: dict[tuple[Any, ...], list[Any]] = {}
        for row in frame.itertuples(index=False):
            found.setdefault(tuple(getattr(row, key) for key in keys), []).append(row)
        return found

    # phrases -----------------------------------------------------------------------------------------------
    def money(self, amount: float) -> str:
        return f"{_number(round(amount))} {self.currency}".strip()

    @staticmethod
    def direction(row: Any) -> str:
        return "to" if row.flow == "export" else "from"

    @staticmethod
    def customs_partner(row: Any) -> str:
        resolved = row.partner_key and row.partner_key[0] not in "?*"
        return row.partner_key if resolved else f"'{row.c_partner}'"

    def quantity(self, row: Any) -> str:
        lines = row.c_lines
        if row.c_item_lines == lines:
            return _plural(row.c_items, "item")
        if row.c_kg_unit_lines == lines:
            return f"{_number(row.c_kg)} kg"
        parts = []
        if row.c_item_lines:
            parts.append(f"{_plural(row.c_items, 'item')} on {_plural(row.c_item_lines, 'line')}")
        if row.c_kg_unit_lines:
            parts.append(f"{_number(row.c_kg)} kg")
        if row.c_none_lines:
            parts.append(f"{_plural(row.c_none_lines, 'line')} without quantity")
        return " and ".join(parts) or _plural(lines, "line")

    def customs_phrase(self, row: Any) -> str:
        worth = ""
        if row.c_value_lines and row.c_unconvertible_lines < row.c_value_lines:
            worth = f" worth {self.money(row.c_value_cmp)}"
        what = "re-exports of " if row.c_re_export_lines == row.c_lines else ""
        codes = f" under {row.c_hs_codes}" if row.c_hs_codes else ""
        return (
            f"customs recorded {what}{self.quantity(row)}{worth}{codes} ({_plural(row.c_lines, 'line')}) "
            f"{self.direction(row)} {self.customs_partner(row)} in {row.year}"
        )

    def report_phrase(self, row: Any) -> str:
        category = row.r_categories if row.r_categories and row.r_categories != row.cmp else row.cmp
        what = self.tree.prose(category) if category in self.tree.label else (category or "items")
        counted = pd.notna(row.r_items) and row.r_items_missing == 0
        count = f"{_number(row.r_items)} {what}" if counted else what
        worth = f" worth {self.money(row.r_value)}" if pd.notna(row.r_value) and row.r_unconvertible == 0 else ""
        rows = f"row {row.r_source_rows}" if row.r_rows == 1 else f"rows {row.r_source_rows}"
        partner = row.r_partner or row.partner_key
        return f"the report lists {count}{worth} {self.direction(row)} {partner} ({rows})"

    def differences(self, row: Any) -> str:
        parts = []
        if row.items_status in ("match", "within-tolerance", "mismatch"):
            diff = row.items_diff
            if abs(diff) <= _EPSILON:
                parts.append("the numbers of items agree")
            elif row.r_items == 0:
                parts.append(f"customs has {_plural(diff, 'item')}, the report 0")
            else:
                more = "more" if diff > 0 else "fewer"
                parts.append(
                    f"customs has {_plural(abs(diff), 'item')} {more} than the report{_percent(row.items_rel_diff)}"
                )
        if row.value_status in ("match", "within-tolerance", "mismatch"):
            if abs(row.value_diff) <= _EXACT_VALUE:
                parts.append("the values agree")
            else:
                parts.append(
                    f"customs value {self.money(row.c_value_cmp)} against {self.money(row.r_value)} in the report"
                    f"{_percent(row.value_rel_diff)}"
                )
        return "; ".join(parts)

    def measure_reasons(self, row: Any, gaps: list[str]) -> list[str]:
        """Why items or values could not be compared, one phrase each."""
        reasons = []
        if row.items_status == "not-comparable":
            lines = row.c_lines
            if row.c_item_lines < lines:
                if row.c_kg_unit_lines == lines:
                    reasons.append(
                        f"customs gives {_number(row.c_kg)} kg, not a number of items (kilograms are never compared "
                        "with items)"
                    )
                    gaps.append("unit")
                else:
                    detail = []
                    if row.c_kg_unit_lines:
                        detail.append("in kg")
                        gaps.append("unit")
                    if row.c_other_units:
                        detail.append(f"in {row.c_other_units}")
                        gaps.append("unit")
                    if row.c_none_lines:
                        detail.append(f"{_number(row.c_none_lines)} without quantity")
                    if row.c_bad_quantity:
                        detail.append(f"{_number(row.c_bad_quantity)} unreadable")
                    more = f" ({', '.join(detail)})" if detail else ""
                    reasons.append(
                        f"{_number(lines - row.c_item_lines)} of {_plural(lines, 'customs line')} give no number "
                        f"of items{more}"
                    )
            if row.r_items_missing:
                reasons.append(
                    f"{_number(row.r_items_missing)} of {_plural(row.r_rows, 'report row')} give no number of items"
                )
        if row.value_status == "not-comparable":
            if row.c_unconvertible_lines:
                reasons.append(
                    f"no exchange rate from {row.c_bad_currencies or 'an unstated currency'} to {self.currency} for "
                    f"{row.year} (give one with --rates)"
                )
                gaps.append("currency")
            missing = row.c_lines - row.c_value_lines
            if missing:
                unreadable = f" ({_number(row.c_bad_value)} unreadable)" if row.c_bad_value else ""
                reasons.append(
                    f"{_number(missing)} of {_plural(row.c_lines, 'customs line')} give no value{unreadable}"
                )
            if row.r_unconvertible:
                reasons.append(
                    f"no exchange rate from {row.r_bad_currencies} to {self.currency} for the report's values"
                )
                gaps.append("currency")
            if row.r_value_missing:
                reasons.append(f"{_number(row.r_value_missing)} of {_plural(row.r_rows, 'report row')} give no value")
        return reasons

    # the explanation ---------------------------------------------------------------------------------------
    def explain(self, row: Any) -> tuple[str, str]:
        gaps: list[str] = []
        if row.kind == "nil":
            text = self.explain_nil(row, gaps)
        elif row.kind == "withheld":
            text = self.explain_withheld(row, gaps)
        elif row.kind == "unresolved":
            text = self.explain_unresolved(row, gaps)
        elif row.kind == "other-basis":
            text = (
                f"Report row {row.r_source_rows} counts {row.r_basis} transfers while the report's other "
                f"{row.flow} rows for {row.year} count {'actual' if row.r_basis == 'authorized' else 'authorized'} "
                "ones; customs is compared with those only, as the two are never added together."
            )
            gaps.append("authorised-vs-actual")
        else:
            text = self.explain_cell(row, gaps)
        if row.r_comments:
            text += f' Report comment: "{row.r_comments}".'
        return text, ";".join(dict.fromkeys(gaps))

    def explain_nil(self, row: Any, gaps: list[str]) -> str:
        lead = f"Nil report for {row.flow}s in {row.year} (row {row.r_source_rows})"
        found = self.art2.get((row.year, row.flow))
        if not found:
            return f"{lead}; customs recorded no {row.flow} of an Art. 2(1) category in {row.year} either."
        return (
            f"{lead}, but customs recorded {_plural(found['lines'], 'line')} in Art. 2(1) categories "
            f"({found['cats']}): see the only-customs rows, and check whether they are arms or look-alikes."
        )

    def explain_withheld(self, row: Any, gaps: list[str]) -> str:
        gaps.append("withheld")
        what = self.tree.prose(row.cmp) if row.cmp else "a transfer"
        desc = f" ({row.r_descriptions})" if row.r_descriptions else ""
        text = (
            f"Report row {row.r_source_rows} withholds the partner of {what}{desc} (ATT Art. 13(3)): "
            "it cannot be compared."
        )
        candidates = [
            cell
            for top in ([row.top_category] if row.cmp else ARTICLE_2_TOPS)
            for cell in self.only_customs_by_top.get((row.year, row.flow, top), [])
        ]
        if candidates:
            listed = "; ".join(
                f"{self.customs_partner(cell)} {self.quantity(cell)} under "
                f"{cell.c_hs_codes or '(no code)'} ({cell.cmp})"
                for cell in candidates[:5]
            )
            text += f" Customs lines with no report counterpart that it may cover: {listed}."
        return text

    def explain_unresolved(self, row: Any, gaps: list[str]) -> str:
        gaps.append("partner")
        if not row.r_partner:
            return f"Report row {row.r_source_rows} gives no partner State, so it cannot be matched with customs lines."
        note = f" ({row.r_note})" if row.r_note else ""
        return (
            f"Report row {row.r_source_rows}: partner '{row.r_partner}' is not a State hsmap can identify{note}; "
            "fix the spelling or add an alias to mappings/partners.csv, then compare again."
        )

    def explain_cell(self, row: Any, gaps: list[str]) -> str:
        status = row.status
        has_c, has_r = row.c_lines > 0, row.r_rows > 0
        customs = self.customs_phrase(row) if has_c else ""
        report = self.report_phrase(row) if has_r else ""
        prose = self.tree.prose(row.cmp) if row.cmp in self.tree.label else row.cmp
        to = self.direction(row)
        if row.out_of_scope:
            gaps.append("out-of-scope")
            text = (
                f"{customs[0].upper()}{customs[1:]}. {prose[0].upper()}{prose[1:]} need not be listed in the "
                "ATT annual report (Art. 13(3) covers the Art. 2(1) categories) and this report lists none for "
                f"{row.year}."
            )
        elif has_c and row.partner_key[:1] in ("?", "*", ""):
            gaps.append("partner")
            if row.c_partner_status == "special":
                why = (
                    f"customs gives the partner as '{row.c_partner}' ({row.c_partner_note}): "
                    "it cannot be matched with a State"
                )
            elif row.c_partner_status == "blank":
                why = "customs lines give no partner"
            else:
                note = f" ({row.c_partner_note})" if row.c_partner_note else ""
                why = (
                    f"customs partner '{row.c_partner}' is not a State hsmap can identify{note}; "
                    "fix the spelling or add an alias to mappings/partners.csv"
                )
            text = f"{customs[0].upper()}{customs[1:]}; {why}."
        elif status == "only-customs":
            partner = self.customs_partner(row)
            text = f"{customs[0].upper()}{customs[1:]}; the report lists no {prose} {to} {partner}."
        elif status == "only-report":
            text = (
                f"{report[0].upper()}{report[1:]}; customs recorded no {prose} line {to} {row.partner_key} "
                f"in {row.year}."
            )
        else:
            lead = f"{customs[0].upper()}{customs[1:]}; {report}"
            reasons = self.measure_reasons(row, gaps)
            if status == "not-comparable":
                text = f"{lead}. Not comparable: {'; '.join(reasons) or 'neither side gives numbers'}."
            else:
                differences = self.differences(row)
                if status == "within-tolerance":
                    text = f"{lead}: within the tolerance, {differences}."
                elif status == "match":
                    text = f"{lead}: the figures agree."
                else:
                    text = f"{lead}: {differences}."
                if reasons:
                    text += f" Not compared: {'; '.join(reasons)}."
        if has_c and row.c_description and status in ("only-customs", "not-comparable", "mismatch"):
            described = "Described as" if row.c_lines == 1 else "First description:"
            text += f' {described} "{row.c_description}".'
        return " ".join([text, *self.hints(row, gaps)])

    def hints(self, row: Any, gaps: list[str]) -> list[str]:
        """The structural gaps that may explain this row, as sentences."""
        hints: list[str] = []
        status, to = row.status, self.direction(row)
        partner = self.customs_partner(row) if row.c_lines else row.partner_key
        problem = status in ("mismatch", "within-tolerance", "only-customs", "only-report", "not-comparable")
        customs_categories = [c for c in row.c_customs_categories.split(", ") if c]
        report_categories = [c for c in row.r_categories.split(", ") if c]
        finer_customs = [c for c in customs_categories if c != row.cmp]
        finer_report = [c for c in report_categories if c != row.cmp]
        if finer_customs or finer_report:
            gaps.append("aggregated")
            if finer_customs and not finer_report:
                hints.append(
                    f"Customs lines classified {', '.join(finer_customs)} are compared at {row.cmp}, the finest level "
                    "the report gives."
                )
            elif finer_report and not finer_customs:
                hints.append(
                    f"Report rows in {', '.join(finer_report)} are compared at {row.cmp}, the finest level the customs "
                    "lines could be classified to."
                )
            else:
                hints.append(f"Compared at {row.cmp}, the finest level both sides share.")
        if row.r_withheld:
            gaps.append("withheld")
            hints.append("The report withholds numbers on this row (ATT Art. 13(3)).")
        if row.r_basis == "authorized":
            gaps.append("authorised-vs-actual")
            hints.append(
                "The report counts authorised transfers (licences) while customs records shipments: a licence may be "
                "used in another year, in part, or not at all."
            )
        if row.c_re_export_lines:
            gaps.append("re-export")
            origin = (
                f"; the report names the State of origin ({row.r_origin})"
                if row.r_origin
                else "; the report should name the State of origin"
            )
            hints.append(f"{_number(row.c_re_export_lines)} of the customs lines are re-exports{origin}.")
        if row.c_shared_codes and problem:
            gaps.append("shared-civil")
            shared = _SHARED_WITH.get(row.top_category, "civil goods and arms")
            hints.append(
                f"{row.c_shared_codes} lines {to} {partner}: {shared} share this code — check the descriptions."
            )
        if row.c_mismatch_lines:
            gaps.append("code-text-mismatch")
            hints.append(
                f"{_plural(row.c_mismatch_lines, 'customs line')} {'has' if row.c_mismatch_lines == 1 else 'have'} a "
                "description that does not fit the declared code — check the declarations."
            )
        if problem and row.c_edge_lines:
            gaps.append("calendar-year")
            dated = (
                ("The customs line is" if row.c_lines == 1 else f"All {_number(row.c_lines)} customs lines are")
                if row.c_edge_lines == row.c_lines
                else f"{_number(row.c_edge_lines)} of the {_number(row.c_lines)} customs lines "
                + ("is" if row.c_edge_lines == 1 else "are")
            )
            hints.append(
                f"{dated} dated in December or January: the report may count the transfer in the neighbouring year."
            )
        if status in ("only-report", "mismatch"):
            other_years = [
                part
                for part in self.outside.get((row.flow, row.partner_key, row.top_category), [])
                if part.year != row.year
            ]
            if other_years:
                gaps.append("calendar-year")
                years = ", ".join(sorted({str(part.year) for part in other_years}))
                hints.append(
                    f"Customs also has {row.top_category} lines {to} {row.partner_key} in {years}, "
                    "which the report does not cover."
                )
        if status == "only-report" and _eu_member(row.r_reporter, row.year) and _eu_member(row.partner_key, row.year):
            gaps.append("intra-EU")
            hints.append(
                f"{row.r_reporter} and {row.partner_key} are both EU members in {row.year}: transfers between "
                "EU States need no customs declaration, so customs data cannot show this one (check the transfer "
                "licences)."
            )
        if status == "only-customs":
            withheld = [w for w in self.withheld.get((row.year, row.flow), []) if w.top in ("", row.top_category)]
            if withheld:
                gaps.append("withheld")
                rows = ", ".join(str(w.source_row) for w in withheld)
                what = "; ".join(
                    f"{w.category or 'no category'}: {w.description}" if w.description else (w.category or "")
                    for w in withheld
                )
                hints.append(f"The report withholds the partner of row {rows} ({what}); this may be that transfer.")
            others = [c for c in self.only_report.get((row.year, row.flow, row.partner_key), [])]
            if others:
                gaps.append("check-category")
                cats = ", ".join(c.cmp for c in others)
                hints.append(
                    f"The report lists {cats} {to} {row.partner_key} with no customs counterpart — "
                    "check whether the category differs."
                )
        if status == "only-report":
            others = [c for c in self.only_customs.get((row.year, row.flow, row.partner_key), [])]
            if others:
                gaps.append("check-category")
                listed = ", ".join(f"{c.cmp} ({self.quantity(c)})" for c in others)
                hints.append(
                    f"Customs has unmatched lines {to} {row.partner_key} under {listed} — "
                    "check whether the category differs."
                )
            plain = self.not_att.get((row.year, row.flow, row.partner_key), [])
            if plain:
                gaps.append("check-classification")
                listed = ", ".join(
                    f"{p.hs6 or '(no code)'} ({_plural(p.lines, 'line')}"
                    + (f", {_plural(p.items, 'item')}" if p.item_lines == p.lines and p.lines else "")
                    + ")"
                    for p in plain[:4]
                )
                hints.append(
                    f"Customs lines {to} {row.partner_key} not classified as ATT items: {listed} — "
                    "check whether one of them is this transfer."
                )
        return hints


# --- output tables ------------------------------------------------------------------------------------------------

COMPARISON_COLUMNS = (
    "status",
    "year",
    "flow",
    "partner",
    "partner_name",
    "category",
    "category_name",
    "top_category",
    "customs_lines",
    "customs_items",
    "customs_kg",
    "customs_value",
    "report_rows",
    "report_row_count",
    "report_items",
    "report_value",
    "currency",
    "items_status",
    "items_diff",
    "items_rel_diff",
    "value_status",
    "value_diff",
    "value_rel_diff",
    "hs_codes",
    "customs_categories",
    "report_categories",
    "basis",
    "gaps",
    "explanation",
)
_STATUS_ORDER = {
    "mismatch": 0,
    "only-customs": 1,
    "only-report": 2,
    "not-comparable": 3,
    "within-tolerance": 4,
    "match": 5,
}


def _country_name(key: str) -> str:
    country = pycountry.countries.get(alpha_3=key) if len(key) == 3 and key.isalpha() and key.isupper() else None
    return getattr(country, "common_name", None) or getattr(country, "name", "") if country else ""


def _comparison_table(table: pd.DataFrame, tree: _Tree, currency: str) -> pd.DataFrame:
    """The public comparison table, worst statuses first."""
    resolved = ~table["partner_key"].str.match(r"^[?*]|^$")
    shown_partner = table["partner_key"].where(
        resolved, table["c_partner"].where(table["c_partner"] != "", table["r_partner"])
    )
    names = {key: _country_name(key) for key in table["partner_key"].unique()}
    partner_name = table["r_partner"].where(table["r_partner"] != "", table["partner_key"].map(names).fillna(""))
    partner_name = partner_name.where(partner_name != "", table["c_partner"])
    value_known = (table["c_value_lines"] > 0) & (table["c_unconvertible_lines"] < table["c_value_lines"])
    out = pd.DataFrame(
        {
            "status": table["status"],
            "year": table["year"],
            "flow": table["flow"],
            "partner": shown_partner,
            "partner_name": partner_name,
            "category": table["cmp"],
            "category_name": table["cmp"].map(tree.label).fillna(""),
            "top_category": table["top_category"],
            "customs_lines": table["c_lines"].astype("int64"),
            "customs_items": table["c_items"].where(table["c_item_lines"] > 0),
            "customs_kg": table["c_kg"].where(table["c_kg_lines"] > 0),
            "customs_value": table["c_value_cmp"].where(value_known),
            "report_rows": table["r_source_rows"],
            "report_row_count": table["r_rows"].astype("int64"),
            "report_items": table["r_items"],
            "report_value": table["r_value"],
            "currency": currency,
            "items_status": table["items_status"],
            "items_diff": table["items_diff"],
            "items_rel_diff": table["items_rel_diff"].replace([np.inf, -np.inf], np.nan),
            "value_status": table["value_status"],
            "value_diff": table["value_diff"],
            "value_rel_diff": table["value_rel_diff"].replace([np.inf, -np.inf], np.nan),
            "hs_codes": table["c_hs_lines"],
            "customs_categories": table["c_customs_categories"],
            "report_categories": table["r_categories"],
            "basis": table["r_basis"],
            "gaps": table["gaps"],
            "explanation": table["explanation"],
            "cell_id": table["cell_id"],
        }
    )
    order = out["status"].map(_STATUS_ORDER)
    out = out.assign(_order=order).sort_values(["_order", "year", "flow", "partner", "category"], kind="stable")
    return out.drop(columns=["_order"]).reset_index(drop=True)


def _partial_view(parts: pd.DataFrame) -> pd.DataFrame:
    """Partial sums as a reviewer reads them: amounts only where lines gave them."""
    return pd.DataFrame(
        {
            "year": parts["year"],
            "flow": parts["flow"],
            "partner": parts["partner"],
            "partner_key": parts["partner_key"],
            "category": parts["category"],
            "hs6": parts["hs6"],
            "unit": parts["unit"],
            "lines": parts["lines"].astype("int64"),
            "items": parts["items"].where(parts["item_lines"] > 0),
            "kg": parts["kg"].where(parts["kg_lines"] > 0),
            "value": parts["value"].where(parts["value_lines"] > 0),
            "currency": parts["currency"],
            "first_row": parts["first_row"].astype("int64"),
        },
        index=parts.index,
    )


def _customs_unmatched(cells: pd.DataFrame, excluded: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Customs partial sums that found no report counterpart or could not be compared, and the excluded ones."""
    statuses = table.loc[table["kind"] == "cell", ["year", "flow", "partner_key", "cmp", "status"]]
    linked = cells.merge(statuses, on=["year", "flow", "partner_key", "cmp"], how="left")
    unmatched = linked[linked["status"].isin(["only-customs", "not-comparable"])]
    first = _partial_view(unmatched).assign(
        reason=unmatched["status"].to_numpy(), compared_as=unmatched["cmp"].to_numpy()
    )
    second = _partial_view(excluded).assign(reason=excluded["exclusion"].to_numpy(), compared_as="")
    frames = [frame for frame in (first, second) if len(frame)]
    if not frames:
        return _partial_view(excluded).assign(reason="", compared_as="")
    out = pd.concat(frames, ignore_index=True)
    columns = ["reason", *[name for name in out.columns if name not in ("reason", "compared_as")], "compared_as"]
    return (
        out[columns]
        .sort_values(["reason", "year", "flow", "partner_key", "category", "hs6"], kind="stable")
        .reset_index(drop=True)
    )


def _not_att_table(not_att: pd.DataFrame) -> pd.DataFrame:
    view = _partial_view(not_att).drop(columns=["category"])
    return view.sort_values(
        ["lines", "year", "partner_key", "hs6"], ascending=[False, True, True, True], kind="stable"
    ).reset_index(drop=True)


def _report_unmatched(rep: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The report rows whose comparison row is only-report or not-comparable, with that row's explanation."""
    rows = table.loc[table["status"].isin(["only-report", "not-comparable"]) & (table["r_rows"] > 0)]
    exploded = (
        rows[["r_source_rows", "status", "explanation"]]
        .assign(source_row=rows["r_source_rows"].str.split(", "))
        .explode("source_row")
    )
    exploded["source_row"] = exploded["source_row"].astype("int64")
    columns = [
        "source_row",
        "year",
        "flow",
        "basis",
        "category",
        "partner",
        "partner_iso3",
        "items",
        "value",
        "currency",
        "state_of_origin",
        "description",
        "comments",
        "nil_report",
        "withheld",
    ]
    out = rep[columns].merge(exploded[["source_row", "status", "explanation"]], on="source_row")
    return out[["status", *columns, "explanation"]].sort_values("source_row").reset_index(drop=True)


_PARTNER_ORDER = {"unknown": 0, "special": 1, "blank": 2, "ok": 3}


def _partners_table(customs: pd.DataFrame, rep: pd.DataFrame) -> pd.DataFrame:
    """Every partner spelling of both sides with what it was read as; the unresolved ones first."""
    report = (
        rep.assign(partner_iso3=rep["partner_iso3"].fillna(""), partner_note=rep["partner_note"].fillna(""))
        .groupby(["partner", "partner_iso3", "partner_status", "partner_note"], observed=True, dropna=False)
        .size()
        .rename("lines")
        .reset_index()
    )
    frames = [customs.assign(side="customs"), report.assign(side="report")]
    out = pd.concat([frame for frame in frames if len(frame)], ignore_index=True)
    if out.empty:
        return pd.DataFrame(columns=["side", "partner", "partner_iso3", "partner_status", "partner_note", "lines"])
    out["partner_status"] = out["partner_status"].astype("str")
    out = out.assign(_order=out["partner_status"].map(_PARTNER_ORDER).fillna(9))
    out = out.sort_values(["_order", "side", "partner"], kind="stable").drop(columns=["_order"])
    out["lines"] = out["lines"].astype("int64")
    return out[["side", "partner", "partner_iso3", "partner_status", "partner_note", "lines"]].reset_index(drop=True)


def _accounting(
    customs: CustomsAggregate, excluded: pd.DataFrame, not_att: pd.DataFrame, cells: pd.DataFrame, rep: pd.DataFrame
) -> pd.DataFrame:
    """Where every input line went: the customs lines and report rows add up to what was read."""
    rows: list[tuple[str, str, int]] = [
        ("customs", "lines read", customs.lines),
        ("customs", "in comparison cells (ATT categories)", int(cells["lines"].sum())),
        ("customs", "not classified as ATT items", int(not_att["lines"].sum())),
    ]
    for reason, lines in excluded.groupby("exclusion", sort=True)["lines"].sum().items():
        rows.append(("customs", f"excluded: {reason}", int(lines)))
    rows.append(("report", "rows read", len(rep)))
    names = {
        "compare": "compared in cells",
        "nil": "nil-report rows",
        "withheld": "withheld rows without a partner",
        "unresolved": "rows whose partner is not a State",
        "other-basis": "rows of the other basis (authorised/actual)",
    }
    counts = rep["role"].value_counts()
    rows.extend(("report", label, int(counts.get(role, 0))) for role, label in names.items() if counts.get(role, 0))
    return pd.DataFrame(rows, columns=["side", "what", "count"])


def reconcile_frames(
    customs: pd.DataFrame | Iterable[pd.DataFrame],
    report: pd.DataFrame,
    kb: Knowledge,
    options: ReconcileOptions | None = None,
) -> Reconciliation:
    """Reconcile canonical customs frames (:func:`hsmap.customs.customs_frame`) with a report frame."""
    chunks = [customs] if isinstance(customs, pd.DataFrame) else customs
    return reconcile(aggregate_customs(chunks), report, kb, options)


def read_rates(path: Path | str) -> pd.DataFrame:
    """A rate table from .csv or .xlsx (columns from, to, rate, optional year)."""
    path = Path(path)
    return normalise_rates(read_table(path), file=str(path))


def reconcile_files(
    customs_path: Path | str,
    report_path: Path | str,
    options: ReconcileOptions | None = None,
    *,
    kb: Knowledge | None = None,
    customs_sheet: str | None = None,
    report_sheet: str | None = None,
    code_column: str | None = None,
    text_column: str | None = None,
    partner_column: str | None = None,
    edition: int = 2022,
    customs_currency: str | None = None,
    customs_flow: str | None = None,
    customs_year: int | None = None,
    report_defaults: dict[str, Any] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    client: Any = None,
) -> Reconciliation:
    """Read both files (customs chunk by chunk, classified on the fly when it has no ``att_category``) and
    reconcile them. ``report_defaults`` fills report fields stated once for the file (reporting_state, year,
    flow, basis).

    ``customs_path`` may be a folder or glob of files (:func:`hsmap.dataset.resolve_dataset`): each file is
    aggregated on its own, with its partition folders as columns (``year=2024``), and the partial aggregates
    are combined; rows are numbered across the files in sorted path order. With a Dask ``client`` the pieces
    are aggregated on the cluster (:func:`hsmap.engines.aggregate_customs_dask`)."""
    kb = kb or load_knowledge()
    report = read_report(report_path, report_sheet, known_categories=kb.categories, **(report_defaults or {}))
    settings: dict[str, Any] = {
        "code": code_column,
        "text": text_column,
        "partner": partner_column,
        "edition": edition,
        "default_currency": customs_currency,
        "default_flow": customs_flow,
        "default_year": customs_year,
    }
    if client is not None:
        from hsmap.engines import aggregate_customs_dask

        aggregate = aggregate_customs_dask(customs_path, client, kb_root=str(kb.root), **settings)
    elif is_dataset(customs_path):
        aggregate = combine_aggregates(
            aggregate_customs(customs_chunks(iter_file(file, chunk_rows), str(file.path), kb=kb, **settings))
            for file in resolve_dataset(customs_path)
        )
    else:
        chunks = iter_customs(Path(customs_path), sheet=customs_sheet, chunk_rows=chunk_rows, kb=kb, **settings)
        aggregate = aggregate_customs(chunks)
    return reconcile(aggregate, report, kb, options)
