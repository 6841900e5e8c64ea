"""The correlation a proposal implies, as the UNSD tables count it (1:1, 1:n …) and as the WCO Secretariat
lays it out beside an amendment.

The WCO correlation tables between two HS editions have two parts: Table I lists each new or changed code
against the codes of the former edition it takes goods from, an ``ex`` before a former code saying that only
part of it goes there, with remarks on the goods transferred; Table II is the same read the other way. The
draft documents print both, so that a delegation sees its amendment in the form the HS Committee uses.
"""

from __future__ import annotations

import pandas as pd

from hsmap.knowledge import Knowledge
from hsmap.proposals.model import Proposal

CORRELATION_COLUMNS = ["amendment", "current", "proposed", "relation", "note"]
TABLE_ONE_COLUMNS = ["proposed", "base", "remarks"]
TABLE_TWO_COLUMNS = ["base", "proposed"]


def correlation_table(proposal: Proposal) -> pd.DataFrame:
    """Current → proposed, one row a link, with the relation as the UNSD tables write it (1:1, 1:n …)."""
    rows = []
    for number, amendment in enumerate(proposal.amendments, start=1):
        pairs = [(link.from_code, target, link.note) for link in amendment.correlation for target in link.to]
        targets = pd.Series([p[0] for p in pairs]).value_counts().to_dict()
        sources = pd.Series([p[1] for p in pairs]).value_counts().to_dict()
        for current, proposed, note in dict.fromkeys(pairs):
            many_to, many_from = targets[current] > 1, sources[proposed] > 1
            relation = {(False, False): "1:1", (True, False): "1:n", (False, True): "n:1"}.get(
                (many_to, many_from), "n:n"
            )
            rows.append((number, current, proposed, relation, note))
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS).astype({"amendment": "int64"})


def _ex(code: str, relation: str) -> str:
    """A former code as Table I writes it: ``ex 8802.11`` when its goods go to several new codes."""
    return f"ex {code}" if relation in ("1:n", "n:n") else code


def wco_table_one(proposal: Proposal, kb: Knowledge) -> pd.DataFrame:
    """Table I: each proposed code, the base-edition codes it takes goods from, and remarks on the goods
    (the link notes, else the ATT categories the new code isolates, else the line's note)."""
    table = correlation_table(proposal)
    lines = {line.code: line for line in proposal.subheadings}
    rows = []
    for proposed, links in table.groupby("proposed", sort=False):
        line = lines.get(str(proposed))
        notes = [note for note in dict.fromkeys(links["note"]) if note]
        if not notes and line is not None and line.isolates:
            notes = [f"{kb.label(c)} (ATT category {c})." if c in kb.categories else c for c in line.isolates]
        elif not notes and line is not None and line.note:
            notes = [line.note]
        base = "; ".join(_ex(c, r) for c, r in zip(links["current"], links["relation"], strict=True))
        rows.append((proposed, base, " ".join(notes)))
    return pd.DataFrame(rows, columns=TABLE_ONE_COLUMNS)


def wco_table_two(proposal: Proposal) -> pd.DataFrame:
    """Table II: each base-edition code the proposal deletes, and all the proposed codes its goods go to."""
    table = correlation_table(proposal)
    rows = [(current, "; ".join(links["proposed"])) for current, links in table.groupby("current", sort=False)]
    return pd.DataFrame(rows, columns=TABLE_TWO_COLUMNS)
