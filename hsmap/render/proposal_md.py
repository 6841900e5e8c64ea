"""A draft amendment as Markdown: readable in a repository, a mail or a review tool."""

from __future__ import annotations

import pandas as pd

from hsmap.render.draft import AmendmentView, Draft, dashes, evidence_lines


def _cell(value: object) -> str:
    """Table cells keep to one line and cannot close the cell early."""
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return " ".join(str(value).split()).replace("|", "\\|")


def _table(frame: pd.DataFrame, headers: list[str] | None = None) -> list[str]:
    names = headers or [str(column) for column in frame.columns]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    return [*lines, ""]


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
    if view.subheading_notes:
        out += ["**Subheading notes**", ""]
        out += [f"{n}. {' '.join(note.split())}" for n, note in enumerate(view.subheading_notes, start=1)] + [""]
    out += ["**ATT categories of the new subheadings**", ""]
    out += _table(
        view.categories,
        ["Code", "Text", "Isolates", "Also holds", "Definition relied on", "Decidable from a declaration", "Note"],
    )
    out += ["**Correlation**", ""]
    out += _table(view.correlation, ["Current", "Proposed", "Relation", "Note"])
    out += ["**Justification**", ""]
    if view.justification:
        out += [" ".join(view.justification.split()), ""]
    if len(view.today):
        out += ["What shares the current code(s) today (hsmap knowledge base, `att_hs.csv`):", ""]
        out += _table(view.today, ["Current", "Category", "Name", "Relation", "Prior weight", "Note"])
    if view.notes:
        out += ["**Notes**", ""] + [f"- {' '.join(note.split())}" for note in view.notes] + [""]
    return out


def render_markdown(draft: Draft) -> str:
    """The whole draft as one Markdown text."""
    proposal = draft.proposal
    out = [
        f"# {proposal.title}",
        "",
        f"> {' '.join(draft.banner.split())}",
        "",
        " ".join(draft.edition_line.split()),
        "",
    ]
    if proposal.summary:
        out += ["## Summary", "", " ".join(proposal.summary.split()), ""]
    if len(draft.summary_categories):
        out += ["## ATT categories isolated", ""]
        out += _table(draft.summary_categories, ["Category", "Name", "New subheadings"])
    out += ["## Amendments", ""]
    for view in draft.amendments:
        out += _amendment(view)
    out += ["## Correlation table", ""]
    out += _table(draft.correlation, ["Amendment", "Current", "Proposed", "Relation", "Note"])
    if draft.evidence is not None:
        out += ["## Evidence from declarations", ""] + [line + "  " for line in evidence_lines(draft.evidence)] + [""]
        out += _table(
            draft.evidence.table, ["Amendment", "Current", "Proposed", "Text", "Isolates", "Lines", "Items", "Value"]
        )
    if len(draft.definitions):
        out += ["## Definitions relied on (own words, hsmap knowledge base)", ""]
        out += _table(draft.definitions, ["Category", "Name", "Definition"])
    if proposal.notes:
        out += ["## Notes", ""] + [f"- {' '.join(note.split())}" for note in proposal.notes] + [""]
    if len(draft.problems):
        out += ["## Open problems (hsmap validation)", ""]
        out += _table(draft.problems, ["Severity", "Code", "Rule", "Message"])
    out += ["## Sources", "", " ".join(proposal.source.split()), ""]
    return "\n".join(out)
