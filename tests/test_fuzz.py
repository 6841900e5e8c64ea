"""Random bytes and random tables at every reader, and row conservation through the reconciliation.

Every reader must either read a file or raise hsmap's own error (one line, naming the file); the
reconciliation must account for every customs line and every report row, whatever the table holds.
"""

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hsmap.customs import CustomsReading, customs_frame, iter_customs
from hsmap.errors import HsmapError
from hsmap.knowledge import load_knowledge
from hsmap.proposals import load_proposal
from hsmap.reconcile import reconcile_frames
from hsmap.report import read_report

KB = load_knowledge()
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _try(read: Callable[[Path], object], path: Path) -> None:
    try:
        read(path)
    except HsmapError as error:
        assert str(error) and "\n" not in str(error).strip()


@FUZZ
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_random_bytes_at_the_report_reader(tmp_path, content, suffix):
    path = tmp_path / f"report{suffix}"
    path.write_bytes(content)
    _try(lambda p: read_report(p, known_categories=KB.categories), path)


@FUZZ
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".parquet", ".xlsx"]))
def test_random_bytes_at_the_customs_reader(tmp_path, content, suffix):
    path = tmp_path / f"customs{suffix}"
    path.write_bytes(content)
    _try(lambda p: list(iter_customs(p, CustomsReading(year=2024, flow="export"), kb=KB)), path)


@FUZZ
@given(content=st.text(max_size=300))
def test_random_text_at_the_proposal_loader(tmp_path, content):
    path = tmp_path / "proposal.yaml"
    path.write_text(content, encoding="utf-8")
    _try(lambda p: load_proposal(p, KB), path)


REPORT = (
    "Reporting State,Year,Flow,Basis,Category,Final importing State,Number of items,Value,Currency,"
    "State of origin,Description of item,Comments on the transfer,Nil report,Withheld\n"
    "Czechia,2024,export,actual,VIII.SA.4,Ukraine,500,1150000,EUR,,,,no,no\n"
    "Czechia,2024,export,actual,I,Poland,3,,,,,,no,no\n"
    "Czechia,2024,export,actual,III,,,,,,howitzers,,no,yes\n"
)
lines = st.tuples(
    st.sampled_from(["2024-03-01", "2023-12-31", "", "soon"]),
    st.sampled_from(["export", "import", "transit", ""]),
    st.sampled_from(["9301.90", "8710.00", "9503.00", "x", ""]),
    st.sampled_from(["ASSAULT RIFLE", "MAIN BATTLE TANK", "TOY GUN", ""]),
    st.sampled_from(["10", "-2", "1,250", "abc", ""]),
    st.sampled_from(["u", "kg", "boxes", ""]),
    st.sampled_from(["1200", "", "n/a"]),
    st.sampled_from(["EUR", "USD", ""]),
    st.sampled_from(["Ukraine", "POL", "Narnia", "", "World"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(lines, min_size=1, max_size=25))
def test_reconciliation_accounts_for_every_line_and_row(tmp_path, rows):
    columns = ["date", "flow", "hs_code", "description", "quantity", "unit", "value", "currency", "partner"]
    customs = customs_frame(pd.DataFrame(rows, columns=columns, dtype="str"), CustomsReading(year=2024), kb=KB)
    path = tmp_path / "report.csv"
    path.write_text(REPORT, encoding="utf-8")
    report = read_report(path, known_categories=KB.categories)
    result = reconcile_frames(customs, report, KB)
    accounting = result.accounting.set_index(["side", "what"])["count"]
    assert accounting[("customs", "lines read")] == len(rows)
    assert accounting["customs"].drop("lines read").sum() == len(rows)
    assert result.comparison["report_row_count"].sum() == len(report)
