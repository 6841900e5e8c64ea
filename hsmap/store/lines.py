"""Turning a read report or a customs chunk into the columns of ``report_lines`` and ``customs_lines``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from hsmap.customs import partner_keys
from hsmap.errors import InputError
from hsmap.knowledge import Knowledge
from hsmap.report import MAX_PROBLEMS, ReportError, rows_phrase


@dataclass
class LineCount:
    """Lines stored so far from one customs file, and the lines skipped (by reason)."""

    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def _text_or_null(values: pd.Series) -> pd.Series:
    text = values.astype("str")
    return text.mask(values.isna() | (text.str.strip() == ""))


def build_report_lines(frame: pd.DataFrame, kb: Knowledge, shown: str) -> pd.DataFrame:
    """The tidy report table of :func:`read_report` → the columns of ``report_lines`` (no source_id yet)."""
    if frame.empty:
        raise InputError(shown, None, None, "no report lines; a nil report needs a row saying so (nil report: yes)")
    unknown = frame[frame["reporting_state_iso3"].isna()]
    if len(unknown):  # one line per spelling, however many rows repeat it
        spellings = unknown.groupby("reporting_state", sort=False)["source_row"].agg(list)
        problems = [
            InputError(
                shown,
                int(rows[0]),
                "reporting_state",
                f"reporting State {spelling!r} on {rows_phrase(rows)} is not a State hsmap can identify: write "
                "its ISO 3166 code (e.g. CZE) or add the spelling to mappings/partners.csv",
            )
            for spelling, rows in spellings.head(MAX_PROBLEMS).items()
        ]
        raise ReportError(problems, len(spellings))
    out = pd.DataFrame(index=frame.index)
    out["source_row"] = frame["source_row"].astype("int64")
    out["reporter_iso3"] = frame["reporting_state_iso3"].astype("str")
    out["reporting_state"] = frame["reporting_state"].astype("str")
    out["year"] = frame["year"].astype("int64")
    out["flow"] = frame["flow"].astype("str")
    out["basis"] = frame["basis"].astype("str")
    category = _text_or_null(frame["category"])
    tops = {cid: kb.top_level(cid) for cid in kb.categories}
    out["category"] = category
    out["top_category"] = category.map(tops).astype("str").mask(category.isna())
    partner = _text_or_null(frame["partner"])
    out["partner"] = partner
    out["partner_key"] = partner_keys(partner.fillna(""), frame).to_numpy()
    out["partner_iso3"] = _text_or_null(frame["partner_iso3"])
    out["partner_status"] = frame["partner_status"].astype("str")
    out["partner_note"] = _text_or_null(frame["partner_note"])
    out["items"] = frame["items"]
    out["value"] = frame["value"].astype("float64")
    for name in ("currency", "state_of_origin", "description", "comments"):
        out[name] = _text_or_null(frame[name])
    out["nil_report"] = frame["nil_report"].astype(bool)
    out["withheld"] = frame["withheld"].astype(bool)
    return out.reset_index(drop=True)


_FATAL_EXCLUSIONS = ("no readable year", "flow not known")


def build_customs_lines(chunk: pd.DataFrame, reporter: str, kb: Knowledge, shown: str, done: LineCount) -> pd.DataFrame:
    """One canonical customs chunk → the columns of ``customs_lines``; raises on a line that cannot be read."""
    lines = chunk.copy()
    lines["reporter_iso3"] = lines["reporter_iso3"].mask(lines["reporter_iso3"] == "", reporter)
    exclusion = lines["exclusion"].astype("str")
    fatal = exclusion.str.startswith(_FATAL_EXCLUSIONS)
    checks = [
        (lines["problem"] != "", "unreadable number: " + lines["problem"].astype("str"), None),
        (fatal, exclusion, None),
        (lines["reporter_iso3"] == "", "no reporting State: give it with --customs-reporter", "reporter"),
    ]
    problems: list[tuple[int, str | None, str]] = []
    for mask, message, column in checks:
        bad = lines[mask.to_numpy()]
        text = message[mask] if isinstance(message, pd.Series) else pd.Series(message, index=bad.index)
        problems += [(int(row), column, str(note)) for row, note in zip(bad["source_row"], text, strict=True)]
    if problems:
        problems.sort(key=lambda problem: problem[0])
        listed = [InputError(shown, row, column, message) for row, column, message in problems[:MAX_PROBLEMS]]
        raise ReportError(listed, len(problems))
    skip = exclusion != ""
    done.skipped.update(exclusion[skip].str.replace(r" \(.*", "", regex=True))
    lines = lines[~skip.to_numpy()]
    done.rows += len(lines)
    out = pd.DataFrame(index=lines.index)
    for name in ("source_row", "year", "month"):
        out[name] = lines[name].astype("int64")
    out["reporter_iso3"] = lines["reporter_iso3"].astype("str")
    out["flow"] = lines["flow"].astype("str")
    for name in ("partner", "partner_iso3", "partner_note", "hs6", "description", "category", "flags", "currency"):
        out[name] = _text_or_null(lines[name])
    out["partner_key"] = lines["partner_key"].astype("str")
    out["partner_status"] = lines["partner_status"].astype("str")
    tops = {cid: kb.top_level(cid) for cid in kb.categories}
    out["top_category"] = out["category"].map(tops).astype("str").mask(out["category"].isna())
    out["unit"] = lines["unit"].astype("str")
    for name in ("items", "kg", "value"):
        out[name] = lines[name].astype("float64")
    return out.reset_index(drop=True)
