"""A draft amendment as Markdown: readable in a repository, a mail or a review tool."""

from __future__ import annotations

import pandas as pd

from hsmap.render.draft import TABLE_ONE_TEXT, TABLE_TWO_TEXT, AmendmentView, Draft, evidence_lines, shown
from hsmap.render.legal_text import ChapterText, dashes, with_dashes

EVIDENCE_HEADERS = ["Amendment", "Current", "Proposed", "Text", "Isolates", "Lines", "Items", "kg", "Value"]
CATEGORY_HEADERS = ["Code", "Text", "Isolates", "Also holds", "Definition relied on", "Decidable", "Note"]


def _cell(value: object) -> str:
    """Table cells keep to one line and cannot close the cell early."""
    return shown(value).replace("|", "\\|")


def _words(text: str) -> str:
    return " ".join(text.split())


def _table(frame: pd.DataFrame, headers: list[str] | None = None) -> list[str]:
    names = headers or [str(column) for column in frame.columns]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    return [*lines, ""]


def _chapter(chapter: ChapterText) -> list[str]:
    out = [f"### {chapter.chapter}", ""]
    for change in chapter.changes:
        out += [f"**{change.target}**", "", change.instruction, ""]
        out += _table(with_dashes(change.lines), ["Code", "Description"])
    if chapter.notes:
        out += ["**Subheading Notes.**", "", chapter.notes_instruction, ""]
        out += [f"> {note}\n" for note in chapter.notes]
    if chapter.consequential:
        out += ["**Consequential amendments.**", ""] + [f"- {text}" for text in chapter.consequential] + [""]
    return out


def _side_by_side(view: AmendmentView) -> list[str]:
    rows = max(len(view.current), len(view.proposed))
    pairs = []
    for position in range(rows):
        left = view.current.iloc[position] if position < len(view.current) else None
        right = view.proposed.iloc[position] if position < len(view.proposed) else None
        pairs.append(
            (
                "" if left is None else left["code"],
                "" if left is None else dashes(int(left["level"])) + left["text"],
                "" if right is None else right["code"],
                "" if right is None else dashes(int(right["level"])) + right["text"],
            )
        )
    frame = pd.DataFrame(pairs, columns=["Current code", "Current text", "Proposed code", "Proposed text"])
    return _table(frame)


def _amendment(view: AmendmentView) -> list[str]:
    out = [f"### {view.number}. Heading {view.heading}" + (f": {view.heading_text}" if view.heading_text else ""), ""]
    out += [f"*{view.instruction}*", ""]
    out += _side_by_side(view)
    out += ["**ATT categories of the new subheadings**", ""]
    out += _table(view.categories, CATEGORY_HEADERS)
    out += [view.definition_check, ""]
    out += ["**Correlation**", ""]
    out += _table(view.correlation, ["Current", "Proposed", "Relation", "Note"])
    out += ["**Justification**", ""]
    if view.justification:
        out += [_words(view.justification), ""]
    if len(view.today):
        out += ["What shares the current code(s) today (hsmap knowledge base, `att_hs.csv`):", ""]
        out += _table(view.today, ["Current", "Category", "Name", "Relation", "Prior weight", "Note"])
    if view.notes:
        out += ["**Notes**", ""] + [f"- {_words(note)}" for note in view.notes] + [""]
    return out


def render_markdown(draft: Draft) -> str:
    """The whole draft as one Markdown text: front page, Part I legal text, Part II correlation tables,
    Part III explanatory memorandum, then the annexes."""
    proposal = draft.proposal
    out = [f"# {proposal.title}", "", f"> {_words(draft.banner)}", "", f"**{_words(draft.edition_line)}**", ""]
    if proposal.summary:
        out += ["## Summary", "", _words(proposal.summary), ""]
    if len(draft.summary_categories):
        out += ["## ATT categories isolated", ""]
        out += _table(draft.summary_categories, ["Category", "Name", "New subheadings"])
    out += [f"## Part I. Amendments to the HS {proposal.base_edition} Nomenclature", ""]
    for chapter in draft.legal_text:
        out += _chapter(chapter)
    base = f"HS {proposal.base_edition}"
    out += ["## Part II. Correlation tables", "", f"Table I: {TABLE_ONE_TEXT.format(base=base)}", ""]
    out += _table(draft.table_one, ["Proposed", base, "Remarks"])
    out += [f"Table II: {TABLE_TWO_TEXT.format(base=base)}", ""]
    out += _table(draft.table_two, [base, "Proposed"])
    out += ["## Part III. Explanatory memorandum", ""]
    for view in draft.amendments:
        out += _amendment(view)
    if draft.evidence is not None:
        out += ["## Annex A. Evidence from declarations", ""]
        out += [line + "  " for line in evidence_lines(draft.evidence)] + [""]
        out += _table(draft.evidence.table, EVIDENCE_HEADERS)
    if len(draft.definitions):
        out += ["## Annex B. Definitions relied on (own words, hsmap knowledge base)", ""]
        out += _table(draft.definitions, ["Category", "Name", "Definition"])
    if proposal.notes:
        out += ["## Notes", ""] + [f"- {_words(note)}" for note in proposal.notes] + [""]
    if len(draft.problems):
        out += ["## Open problems (hsmap validation)", ""]
        out += _table(draft.problems, ["Severity", "Code", "Rule", "Message"])
    out += ["## Sources", "", _words(proposal.source), ""]
    return "\n".join(out)
