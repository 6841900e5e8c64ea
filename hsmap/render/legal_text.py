"""The amendments in the form of the WCO's HS amendment recommendations, chapter by chapter.

The HS Committee writes an amendment as an instruction under the provision it changes: "Subheading 0101.10.
Delete and substitute:" followed by the new lines in quotes (code, dashes, text), "Subheadings 0207.3 to
0207.36." for a run of lines that includes the text line heading them, and new Subheading Notes inserted
after the chapter's others (as in the Council Recommendation of 26 June 2009, circulated to WTO Members on
24 March 2010). New Subheading Notes read "For the purposes of subheading …, the expression "…" means …".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hsmap.knowledge import Knowledge
from hsmap.proposals import Amendment, Proposal

LINE_COLUMNS = ["code", "level", "text"]


def dashes(level: int) -> str:
    """HS indentation: ``- `` for one-dash lines, ``-- `` for two-dash ones, nothing for a heading."""
    return "-" * level + " " if level else ""


def with_dashes(lines: pd.DataFrame) -> pd.DataFrame:
    """Substituted lines as the HS prints them: code, then the text behind its dashes."""
    texts = [dashes(int(level)) + text for level, text in zip(lines["level"], lines["text"], strict=True)]
    return pd.DataFrame({"code": lines["code"], "text": texts})


@dataclass(frozen=True)
class Change:
    """One instruction: the provision amended (``Subheadings 8802.1 to 8802.12.``), what to do, and the
    lines to substitute (code, number of dashes, text)."""

    target: str
    instruction: str
    lines: pd.DataFrame


@dataclass(frozen=True)
class ChapterText:
    """The changes to one chapter, its new Subheading Notes, and other changes its Notes need."""

    chapter: str  # "Chapter 88."
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    consequential: list[str] = field(default_factory=list)

    @property
    def notes_instruction(self) -> str:
        plural = "s" if len(self.notes) > 1 else ""
        return f"Insert the following new Subheading Note{plural}, numbered after those already in the Chapter:"


def _listed(codes: list[str]) -> str:
    return codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " and " + codes[-1]


def target(codes: list[str], edition: int, kb: Knowledge) -> str:
    """The provision an amendment replaces, as the WCO names it: one subheading, a run of consecutive
    subheadings from the text line heading them (``Subheadings 8806.2 to 8806.99.``), or a list."""
    if len(codes) == 1:
        return f"Subheading {codes[0]}."
    if edition in kb.hs:
        table = kb.hs[edition]
        order = sorted(table.loc[(table["level"] == 6) & (table["parent"] == codes[0][:4]), "code"])
        positions = sorted(order.index(code) for code in codes if code in order)
        if len(positions) == len(codes) and positions[-1] - positions[0] == len(codes) - 1:
            first, last = order[positions[0]], order[positions[-1]]
            group = [code for code in order if code[:6] == first[:6]]
            whole_group = not first.endswith("0") and group[0] == first and set(group) <= set(codes)
            return f"Subheadings {first[:6] if whole_group else first} to {last}."
    return f"Subheadings {_listed(codes)}."


def _change(amendment: Amendment, edition: int, kb: Knowledge) -> Change:
    lines = pd.DataFrame(
        [(line.code or "", line.level, " ".join(line.text.split())) for line in amendment.lines], columns=LINE_COLUMNS
    )
    return Change(target(amendment.current_codes, edition, kb), "Delete and substitute:", lines)


def legal_text(proposal: Proposal, kb: Knowledge) -> list[ChapterText]:
    """The proposal's amendments grouped by chapter, in the order of the file, notes said once per chapter."""
    chapters: dict[str, ChapterText] = {}
    for amendment in proposal.amendments:
        chapter = chapters.setdefault(amendment.chapter, ChapterText(f"Chapter {int(amendment.chapter)}."))
        chapter.changes.append(_change(amendment, proposal.base_edition, kb))
        for note in amendment.subheading_notes:
            text = " ".join(note.split())
            if text not in chapter.notes:
                chapter.notes.append(text)
        chapter.consequential.extend(" ".join(text.split()) for text in amendment.consequential)
    return list(chapters.values())
