"""What a draft amendment document says, independent of its format: the .md, .docx and .xlsx writers lay
out the same :class:`Draft`, so the three never disagree on a code, a text or a count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.lookup import COMTRADE_EDITION, categories_for_code, describe_code
from hsmap.proposals import (
    Amendment,
    Evidence,
    Problem,
    Proposal,
    correlation_table,
    current_level,
    current_text,
    isolated_categories,
    problems_table,
)

TEXT_COLUMNS = ["side", "code", "level", "text"]
CATEGORY_COLUMNS = ["code", "text", "isolates", "holds", "relies_on", "decidable", "note"]
TODAY_COLUMNS = ["current", "category", "label", "relation", "weight", "note"]


def dashes(level: int) -> str:
    """HS indentation: ``- `` for one-dash lines, ``-- `` for two-dash ones, nothing for a heading."""
    return "-" * level + " " if level else ""


@dataclass(frozen=True)
class AmendmentView:
    """One amendment as a delegation reads it: texts side by side, categories, correlation, reasons."""

    number: int
    heading: str  # 87.10
    heading_text: str
    instruction: str  # "Delete subheading 8710.00 and substitute:"
    current: pd.DataFrame  # TEXT_COLUMNS, side == "current"
    proposed: pd.DataFrame  # TEXT_COLUMNS, side == "proposed"
    categories: pd.DataFrame  # CATEGORY_COLUMNS, one row per new subheading
    correlation: pd.DataFrame  # current, proposed, relation, note
    today: pd.DataFrame  # TODAY_COLUMNS: what shares the current codes, from att_hs.csv
    justification: str
    subheading_notes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Draft:
    """The whole document: front matter, amendments, summary tables, evidence and open problems."""

    proposal: Proposal
    banner: str
    edition_line: str
    summary_categories: pd.DataFrame  # category, name, proposed codes
    amendments: list[AmendmentView]
    correlation: pd.DataFrame
    definitions: pd.DataFrame  # category, name, definition (knowledge base, own words)
    evidence: Evidence | None = None
    problems: pd.DataFrame = field(default_factory=lambda: problems_table([]))


def _heading_label(heading: str) -> str:
    return f"{heading[:2]}.{heading[2:]}"


def _instruction(amendment: Amendment) -> str:
    codes = amendment.current_codes
    listed = codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " and " + codes[-1]
    word = "subheading" if len(codes) == 1 else "subheadings"
    return f"Delete {word} {listed} and substitute the following:"


def _today(amendment: Amendment, edition: int, kb: Knowledge) -> pd.DataFrame:
    """The ATT categories the knowledge base puts under the replaced codes today (the justification)."""
    if edition not in kb.hs:
        return pd.DataFrame(columns=TODAY_COLUMNS)
    frames = []
    for code in amendment.current_codes:
        links = categories_for_code(code, edition, kb)
        frames.append(links.assign(current=code))
    found = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*TODAY_COLUMNS, "code"])
    return found.drop_duplicates(["current", "category"])[TODAY_COLUMNS].reset_index(drop=True)


def _view(number: int, amendment: Amendment, proposal: Proposal, kb: Knowledge, table: pd.DataFrame) -> AmendmentView:
    edition = proposal.base_edition
    current = pd.DataFrame(
        [
            ("current", c.code, current_level(c.code), current_text(c.code, c.text, edition, kb))
            for c in amendment.replaces
        ],
        columns=TEXT_COLUMNS,
    )
    proposed = pd.DataFrame(
        [("proposed", line.code or "", line.level, line.text) for line in amendment.lines], columns=TEXT_COLUMNS
    )
    categories = pd.DataFrame(
        [
            (
                line.code,
                line.text,
                " ".join(line.isolates),
                " ".join(line.holds),
                line.definition,
                line.decidable,
                line.note,
            )
            for line in amendment.subheadings
        ],
        columns=CATEGORY_COLUMNS,
    )
    heading_text = amendment.heading_text
    if not heading_text and (edition in kb.hs or edition == COMTRADE_EDITION):
        heading_text = describe_code(amendment.heading, edition, kb)
    return AmendmentView(
        number=number,
        heading=_heading_label(amendment.heading),
        heading_text=heading_text,
        instruction=_instruction(amendment),
        current=current,
        proposed=proposed,
        categories=categories,
        correlation=table[table["amendment"] == number].drop(columns="amendment").reset_index(drop=True),
        today=_today(amendment, edition, kb),
        justification=amendment.justification,
        subheading_notes=list(amendment.subheading_notes),
        notes=list(amendment.notes),
    )


def build_draft(
    proposal: Proposal,
    kb: Knowledge | None = None,
    evidence: Evidence | None = None,
    problems: list[Problem] | None = None,
) -> Draft:
    """Assemble every table the document shows, once, from the proposal and the knowledge base."""
    kb = kb or load_knowledge()
    table = correlation_table(proposal)
    isolated = isolated_categories(proposal)
    order = {category: position for position, category in enumerate(kb.categories)}
    summary = pd.DataFrame(
        [
            (category, kb.label(category) if category in kb.categories else "", " ".join(codes))
            for category, codes in sorted(isolated.items(), key=lambda item: order.get(item[0], len(order)))
        ],
        columns=["category", "name", "proposed"],
    )
    used = list(summary["category"])
    definitions = pd.DataFrame(
        [(c, kb.label(c), kb.categories[c].definition) for c in used if c in kb.categories],
        columns=["category", "name", "definition"],
    )
    kind = "Draft" if proposal.status == "draft" else "Adopted amendment"
    banner = f"{kind} prepared by {proposal.prepared_by}."
    if proposal.disclaimer:
        banner += f" {proposal.disclaimer}"
    return Draft(
        proposal=proposal,
        banner=banner,
        edition_line=f"Amends HS {proposal.base_edition}. Target: {proposal.target}",
        summary_categories=summary,
        amendments=[_view(n, a, proposal, kb, table) for n, a in enumerate(proposal.amendments, start=1)],
        correlation=table,
        definitions=definitions,
        evidence=evidence,
        problems=problems_table(problems or []),
    )


def evidence_lines(evidence: Evidence) -> list[str]:
    """The sentences that frame the evidence table (what was read, what stayed ambiguous)."""
    how = "classified by hsmap" if evidence.classified else "as classified in the file"
    currency = f" Value in {evidence.currency}." if evidence.currency not in ("", "mixed") else ""
    if evidence.currency == "mixed":
        currency = " Values are in several currencies and were added as they stand: convert them first."
    return [
        f"{evidence.lines:,} declaration lines read from {evidence.source} ({how}); {evidence.in_scope:,} fall under "
        f"a code this proposal replaces, {evidence.ambiguous:,} of them stay ambiguous.{currency}",
        f"Items: the '{evidence.quantity_column}' of lines declared in units (pieces)."
        if evidence.quantity_column
        else "Items: no quantity column was found, so items are not counted.",
        f"Value: the sum of '{evidence.value_column}'."
        if evidence.value_column
        else "Value: no value column was found, so value is not counted.",
    ]
