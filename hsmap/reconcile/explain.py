"""The explanation of each comparison row, in words a reporting officer can act on, and the structural gaps
it names."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hsmap.reconcile.categories import CategoryTree
from hsmap.reconcile.cells import joined
from hsmap.reconcile.statuses import EPSILON, EXACT_VALUE

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


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _plural(count: float, word: str, plural: str | None = None) -> str:
    return f"{_number(count)} {word if count == 1 else (plural or word + 's')}"


def _percent(rel: float) -> str:
    return "" if rel is None or not np.isfinite(rel) else f" ({rel:+.1%})"


def _eu_member(iso3: str, year: int) -> bool:
    span = EU_MEMBERS.get(iso3)
    return span is not None and span[0] <= year <= span[1]


class Explainer:
    """What an explanation may point at beyond its own row: the other rows of the same partner, the lines not
    classified as ATT items, the withheld report rows, customs lines of years the report does not cover."""

    def __init__(
        self,
        tree: CategoryTree,
        table: pd.DataFrame,
        rep: pd.DataFrame,
        not_att: pd.DataFrame,
        excluded: pd.DataFrame,
        currency: str,
    ) -> None:
        self.tree, self.currency = tree, currency
        cells = table[table["kind"] == "cell"]
        unmatched = cells[(cells["status"] == "only-customs") | cells["out_of_scope"]]
        self.only_customs = self._index(unmatched, ["year", "flow", "partner_key"])
        self.only_customs_by_top = self._index(
            cells[cells["status"] == "only-customs"], ["year", "flow", "top_category"]
        )
        self.only_report = self._index(cells[cells["status"] == "only-report"], ["year", "flow", "partner_key"])
        art2 = cells[(cells["c_lines"] > 0) & cells["top_category"].map(tree.in_scope).astype(bool)]
        self.art2 = art2.groupby(["year", "flow"]).agg(lines=("c_lines", "sum"), cats=("cmp", joined)).to_dict("index")
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
        several = ", " in row.r_categories  # rows of several categories compared at one level
        category = row.cmp if several else (row.r_categories or row.cmp)
        what = self.tree.prose(category) if self.tree.name(category) else (category or "items")
        counted = pd.notna(row.r_items) and row.r_items_missing == 0
        count = f"{_number(row.r_items)} {what}" if counted else what
        worth = f" worth {self.money(row.r_value)}" if pd.notna(row.r_value) and row.r_unconvertible == 0 else ""
        rows = f"row {row.r_source_rows}" if row.r_rows == 1 else f"rows {row.r_source_rows}"
        where = f" ({row.r_breakdown})" if several else f" ({rows})"
        partner = row.r_partner or row.partner_key
        return f"the report lists {count}{worth} {self.direction(row)} {partner}{where}"

    def differences(self, row: Any) -> str:
        parts = []
        if row.items_status in ("match", "within-tolerance", "mismatch"):
            diff = row.items_diff
            if abs(diff) <= EPSILON:
                parts.append("the numbers of items agree")
            elif row.r_items == 0:
                parts.append(f"customs has {_plural(diff, 'item')}, the report 0")
            else:
                more = "more" if diff > 0 else "fewer"
                parts.append(
                    f"customs has {_plural(abs(diff), 'item')} {more} than the report{_percent(row.items_rel_diff)}"
                )
        if row.value_status in ("match", "within-tolerance", "mismatch"):
            if abs(row.value_diff) <= EXACT_VALUE:
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
            text = self.explain_nil(row)
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

    def explain_nil(self, row: Any) -> str:
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
        tops = {row.top_category} if row.cmp else set(self.tree.article_2_tops)
        candidates = [
            cell
            for (year, flow, top), cells in self.only_customs_by_top.items()
            if (year, flow) == (row.year, row.flow) and tops.intersection(self.tree.tops(top))
            for cell in cells
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
        prose = self.tree.prose(row.cmp) if self.tree.name(row.cmp) else row.cmp
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

    def combined_reason(self, row: Any) -> str:
        """Why a row is compared at a combined level such as ``I+II``, and what each side holds there."""
        members = self.tree.members(row.cmp)
        names = [self.tree.prose(member) for member in members]
        could_be = ", ".join(names[:-1]) + " or " + names[-1]
        holds = "both" if len(members) == 2 else "all of them"
        return (
            f"Customs lines under {row.c_undecided_codes} could be {could_be}: the code holds {holds} and no "
            f"description tells them apart, so customs is compared with the report's {' and '.join(members)} "
            f"together, at {row.cmp}."
        )

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
        if row.c_undecided_codes and self.tree.is_combined(row.cmp):
            gaps.append("code-cannot-tell")
            hints.append(self.combined_reason(row))
        elif customs_categories and report_categories and row.cmp not in customs_categories + report_categories:
            gaps.append("category-differs")
            hints.append(
                f"Customs lines are classified {', '.join(customs_categories)}, the report lists "
                f"{', '.join(report_categories)}: they are compared at {row.cmp}, the lowest category holding both."
            )
        elif finer_customs or finer_report:
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
            shared = _SHARED_WITH.get(self.tree.tops(row.top_category)[0], "civil goods and arms")
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
            tops = ("", *self.tree.tops(row.top_category))
            withheld = [w for w in self.withheld.get((row.year, row.flow), []) if w.top in tops]
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
