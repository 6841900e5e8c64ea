"""What a draft amendment document says, independent of its format: the .md, .docx and .xlsx writers lay
out the same :class:`Draft`, so the three never disagree on a code, a text or a count.

The document follows the papers delegations know: the amendments in the form of a WCO recommendation
(:mod:`legal_text`), the correlation tables as the WCO Secretariat publishes them (Table I and Table II),
then an explanatory memorandum per amendment (texts side by side, the ATT categories, the definition check,
the justification) and the annexes (evidence, definitions relied on, open problems, sources).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.lookup import COMTRADE_EDITION, categories_for_code, describe_code
from hsmap.proposals import (
    Amendment,
    DefinitionCheck,
    Evidence,
    Problem,
    Proposal,
    correlation_table,
    current_level,
    definition_checks,
    isolated_categories,
    problems_table,
    wco_table_one,
    wco_table_two,
)
from hsmap.proposals.criteria import load_attributes
from hsmap.render.legal_text import ChapterText, legal_text, target

TEXT_COLUMNS = ["side", "code", "level", "text"]
TABLE_ONE_TEXT = 'each proposed code and the {base} codes it takes goods from ("ex": only part of that code).'
TABLE_TWO_TEXT = "each {base} code the proposal deletes and the proposed codes its goods go to."
CATEGORY_COLUMNS = ["code", "text", "isolates", "holds", "relies_on", "decidable", "note"]
TODAY_COLUMNS = ["current", "category", "label", "relation", "weight", "note"]


@dataclass(frozen=True)
class AmendmentView:
    """One amendment as a delegation reads it: texts side by side, categories, correlation, reasons."""

    number: int
    heading: str  # 87.10
    heading_text: str
    instruction: str  # "Subheadings 8802.1 to 8802.12. Delete and substitute:"
    current: pd.DataFrame  # TEXT_COLUMNS, side == "current"
    proposed: pd.DataFrame  # TEXT_COLUMNS, side == "proposed"
    categories: pd.DataFrame  # CATEGORY_COLUMNS, one row per new subheading
    correlation: pd.DataFrame  # current, proposed, relation, note
    today: pd.DataFrame  # TODAY_COLUMNS: what shares the current codes, from att_hs.csv
    justification: str
    definition_check: str  # what the definition check covered, in one sentence
    subheading_notes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Draft:
    """The whole document: front matter, amendments, summary tables, evidence and open problems."""

    proposal: Proposal
    banner: str
    edition_line: str  # the base edition, stated on the first page
    summary_categories: pd.DataFrame  # category, name, proposed codes
    legal_text: list[ChapterText]
    amendments: list[AmendmentView]
    correlation: pd.DataFrame  # CORRELATION_COLUMNS (with the UNSD relation)
    table_one: pd.DataFrame  # WCO Table I: proposed, base (with "ex"), remarks
    table_two: pd.DataFrame  # WCO Table II: base, proposed
    definitions: pd.DataFrame  # category, name, definition (knowledge base, own words)
    evidence: Evidence | None = None
    problems: pd.DataFrame = field(default_factory=lambda: problems_table([]))


def shown(value: object) -> str:
    """A table cell as the documents print it: numbers with thousands separators, a missing number blank,
    text on one line."""
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return " ".join(str(value).split())


def current_text(code: str, given: str, edition: int, kb: Knowledge) -> str:
    """The text shown for a current code: the proposal's own, else our description of it."""
    if given or (edition not in kb.hs and edition != 2022):
        return given
    return describe_code(code, edition, kb)


def _heading_label(heading: str) -> str:
    return f"{heading[:2]}.{heading[2:]}"


def _check_sentence(check: DefinitionCheck | None, kb: Knowledge) -> str:
    """The definition check of an amendment in one sentence, as the memorandum states it."""
    if check is None:
        return "Not checked: the goods and the new lines are not described by item attributes."
    if not check.passed:
        return f"Definition check: {len(check.problems)} problem(s), listed under the open problems."
    labels = load_attributes(kb)
    names = ", ".join(dict.fromkeys(labels[name].label for name in check.attributes))
    return (
        f"Definition check: {check.items:,} items generated across {names}; each falls in exactly one new "
        "subheading, and each subheading that isolates a category takes all of that category's items and no other."
    )


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


def _view(
    number: int,
    amendment: Amendment,
    proposal: Proposal,
    kb: Knowledge,
    table: pd.DataFrame,
    check: DefinitionCheck | None,
) -> AmendmentView:
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
        instruction=f"{target(amendment.current_codes, edition, kb)} Delete and substitute:",
        current=current,
        proposed=proposed,
        categories=categories,
        correlation=table[table["amendment"] == number].drop(columns="amendment").reset_index(drop=True),
        today=_today(amendment, edition, kb),
        justification=amendment.justification,
        definition_check=_check_sentence(check, kb),
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
    if proposal.submitted_by:
        banner += f" Submitted by {proposal.submitted_by}."
    if proposal.disclaimer:
        banner += f" {proposal.disclaimer}"
    edition_line = (
        f"Base edition: HS {proposal.base_edition}. The draft amends the HS {proposal.base_edition} Nomenclature; "
        f"current codes and texts are those of that edition. Target: {' '.join(proposal.target.split())}"
    )
    checks = definition_checks(proposal, kb)
    return Draft(
        proposal=proposal,
        banner=banner,
        edition_line=edition_line,
        summary_categories=summary,
        legal_text=legal_text(proposal, kb),
        amendments=[
            _view(n, a, proposal, kb, table, checks.get(n)) for n, a in enumerate(proposal.amendments, start=1)
        ],
        correlation=table,
        table_one=wco_table_one(proposal, kb),
        table_two=wco_table_two(proposal),
        definitions=definitions,
        evidence=evidence,
        problems=problems_table(problems or []),
    )


def evidence_lines(evidence: Evidence) -> list[str]:
    """The sentences that frame the evidence table (what was read, what stayed ambiguous or unreadable)."""
    how = "classified by hsmap" if evidence.classified else "as classified in the file"
    currency = f" Value in {evidence.currency}." if evidence.currency not in ("", "mixed") else ""
    if evidence.currency == "mixed":
        currency = " Values are in several currencies and were added as they stand: convert them first."
    weight = f", else the '{evidence.weight_column}' column" if evidence.weight_column else ""
    lines = [
        f"{evidence.lines:,} declaration lines read from {evidence.source} ({how}); {evidence.in_scope:,} fall under "
        f"a code this proposal replaces, {evidence.ambiguous:,} of them stay ambiguous.{currency}",
        f"Items: the '{evidence.quantity_column}' of lines declared in units (pieces); kg: of lines declared in "
        f"kilograms, tonnes or grams{weight}. A blank cell means no line of the row gave that measure."
        if evidence.quantity_column
        else "Items: no quantity column was found, so items are not counted.",
        f"Value: the sum of '{evidence.value_column}'."
        if evidence.value_column
        else "Value: no value column was found, so value is not counted.",
    ]
    if evidence.unreadable:
        lines.append(
            f"{evidence.unreadable:,} lines have a quantity, weight or value that is not a number; "
            "they are counted as lines without it."
        )
    return lines
