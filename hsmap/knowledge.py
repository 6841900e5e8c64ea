"""Load ``mappings/`` once, validate every row, cross-check the files, and index them as tables.

A broken file fails with an InputError naming the file, the row (as a spreadsheet counts it: header is
row 1) and the field, so a reviewer can fix the data without reading code.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

import pandas as pd
from pydantic import BaseModel, ValidationError

from hsmap.errors import InputError
from hsmap.kb_cache import load_compiled_knowledge
from hsmap.schema import AttLink, Category, Correlation, EditionInForce, HsCode, Negative, Term

Model = TypeVar("Model", bound=BaseModel)
_CORRELATION_FILE = re.compile(r"^correlation_(\d{4})_(\d{4})\.csv$")
_EDITION_FILE = re.compile(r"^(\d{4})\.csv$")


def default_root() -> Path:
    """The shipped ``mappings/``: inside the installed package, or beside it in a source checkout."""
    packaged = Path(str(resources.files("hsmap"))) / "mappings"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "mappings"


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per folder
class Knowledge:
    """The validated knowledge base; tables are pandas DataFrames with string columns."""

    root: Path
    categories: dict[str, Category]
    hs: dict[int, pd.DataFrame]  # edition → code, level, parent, description, source
    in_force: pd.DataFrame  # edition, in_force_from, source, note; oldest first
    correlations: pd.DataFrame  # from_edition, to_edition, from_code, to_code, relation, …
    links: pd.DataFrame  # edition, code, category, relation, weight, confidence, note, source
    terms: pd.DataFrame  # term, category, lang, kind, weight, note
    negatives: pd.DataFrame  # term, lang, flag, excludes, note
    _children: dict[str, list[str]] = field(default_factory=dict, repr=False)
    cache_key: str = field(default="", repr=False)  # the digest it was compiled under (``hsmap.kb_cache``), which
    # the tables derived from it are cached under too; empty for a knowledge base that is not compiled

    @property
    def editions(self) -> list[int]:
        """The HS editions the knowledge base has files for, oldest first."""
        return sorted(self.hs)

    @property
    def newest(self) -> int:
        return self.editions[-1]

    def children(self, category: str) -> list[str]:
        return self._children.get(category, [])

    def descendants(self, category: str) -> list[str]:
        """The category and every category below it, parents first."""
        found = [category]
        for child in self.children(category):
            found.extend(self.descendants(child))
        return found

    def ancestors(self, category: str) -> list[str]:
        """The category and its parents up to the top level, nearest first."""
        chain = [category]
        while (parent := self.categories[chain[-1]].parent) is not None:
            chain.append(parent)
        return chain

    def top_level(self, category: str) -> str:
        return self.ancestors(category)[-1]

    def common_ancestor(self, categories: Iterable[str]) -> str:
        """The deepest category that is (an ancestor of) each of ``categories``, all of one tree."""
        chains = [self.ancestors(category) for category in categories]
        shared = set(chains[0]).intersection(*chains[1:])
        return next(ancestor for ancestor in chains[0] if ancestor in shared)

    def label(self, category: str) -> str:
        return self.categories[category].name

    def in_article_2(self, category: str) -> bool:
        """Whether the category is (below) one of the ATT Art. 2(1) categories that the annual report covers
        (``article`` in ``categories.yaml``), not Art. 3 ammunition or Art. 4 parts."""
        return self.categories[self.top_level(category)].article.startswith("2(1)")


def _read_rows(path: Path, model: type[Model], root: Path) -> list[Model]:
    """Validate a CSV file row by row; the first bad field stops loading with its row and column."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    expected = [name for name in model.model_fields]
    missing = [name for name in expected if name not in frame.columns]
    if missing:
        raise InputError(_shown(path, root), 1, missing[0], "column missing from the header")
    extra = [name for name in frame.columns if name not in expected]
    if extra:
        raise InputError(_shown(path, root), 1, extra[0], "column not in the schema")
    rows = []
    for number, record in enumerate(frame.to_dict(orient="records"), start=2):
        values = {key: value for key, value in record.items() if value != ""}
        rows.append(_validate(model, values, path, root, number))
    return rows


def _validate(model: type[Model], values: dict, path: Path, root: Path, row: int | None) -> Model:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        column = ".".join(str(part) for part in first["loc"]) or None
        raise InputError(_shown(path, root), row, column, first["msg"]) from None


def _shown(path: Path, root: Path) -> str:
    """A path as a reviewer knows it: ``mappings/att_hs.csv``."""
    try:
        return str(Path("mappings") / path.relative_to(root))
    except ValueError:
        return str(path)


def _table(rows: list[BaseModel], columns: list[str]) -> pd.DataFrame:
    records = [row.model_dump() for row in rows]
    return pd.DataFrame.from_records(records, columns=columns)


def _load_categories(root: Path) -> dict[str, Category]:
    import yaml  # only when the files are read: a compiled knowledge base needs no YAML parser

    path = root / "categories.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    categories: dict[str, Category] = {}
    for number, entry in enumerate(entries, start=1):
        category = _validate(Category, entry, path, root, None if entry is None else number)
        if category.id in categories:
            raise InputError(_shown(path, root), number, "id", f"duplicate category {category.id}")
        categories[category.id] = category
    for number, category in enumerate(categories.values(), start=1):
        if category.parent is not None and category.parent not in categories:
            raise InputError(_shown(path, root), number, "parent", f"unknown parent category {category.parent}")
    return categories


def _check_hs(frame: pd.DataFrame, path: Path, root: Path) -> None:
    codes = set(frame["code"])
    for number, row in enumerate(frame.itertuples(index=False), start=2):
        expected_level = len(row.code.replace(".", ""))
        if row.level != expected_level:
            raise InputError(_shown(path, root), number, "level", f"{row.code} is level {expected_level}")
        expected_parent = {2: "", 4: row.code[:2], 6: row.code[:4]}[row.level]
        if row.parent != expected_parent:
            raise InputError(_shown(path, root), number, "parent", f"parent of {row.code} is {expected_parent!r}")
        if row.parent and row.parent not in codes:
            raise InputError(_shown(path, root), number, "parent", f"{row.parent} is not in the file")
    duplicated = frame["code"].duplicated()
    if duplicated.any():
        number = int(duplicated.to_numpy().argmax()) + 2
        raise InputError(_shown(path, root), number, "code", "duplicate code")


def _check_codes_known(frame: pd.DataFrame, column: str, known: set[str], path: Path, root: Path, what: str) -> None:
    unknown = ~frame[column].isin(known)
    if unknown.any():
        number = int(unknown.to_numpy().argmax())
        raise InputError(_shown(path, root), number + 2, column, f"{frame[column].iloc[number]} is not in {what}")


def _check_category_ids(
    values: pd.Series, categories: dict[str, Category], path: Path, root: Path, column: str
) -> None:
    for number, value in enumerate(values, start=2):
        for category in str(value).split("|"):
            if category != "*" and category not in categories:
                raise InputError(_shown(path, root), number, column, f"unknown category {category!r}")


def _load_correlations(root: Path, hs: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Every ``hs/correlation_<old>_<new>.csv``; each pair of successive editions needs one."""
    frames = []
    pairs = []
    for path in sorted((root / "hs").glob("correlation_*.csv")):
        match = _CORRELATION_FILE.match(path.name)
        if not match:
            raise InputError(_shown(path, root), None, None, "name it correlation_<from>_<to>.csv")
        old, new = int(match.group(1)), int(match.group(2))
        pairs.append((old, new))
        for edition in (old, new):
            if edition not in hs:
                raise InputError(_shown(path, root), None, None, f"no hs/{edition}.csv to correlate")
        frame = _table(_read_rows(path, Correlation, root), list(Correlation.model_fields))
        for column, edition in (("from_code", old), ("to_code", new)):
            subheadings = hs[edition].loc[hs[edition]["level"] == 6, "code"]
            _check_codes_known(frame, column, set(subheadings), path, root, f"hs/{edition}.csv")
            unlinked = sorted(set(subheadings) - set(frame[column]))
            if unlinked:
                raise InputError(_shown(path, root), None, column, f"hs/{edition}.csv {unlinked[0]} has no link")
        frames.append(frame.assign(from_edition=old, to_edition=new))
    missing = sorted(set(itertools.pairwise(sorted(hs))) - set(pairs))
    if missing:  # correlate chains editions one step at a time
        old, new = missing[0]
        raise InputError(_shown(root / "hs", root), None, None, f"no correlation_{old}_{new}.csv for HS {old} → {new}")
    columns = ["from_edition", "to_edition", *Correlation.model_fields]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _load_in_force(root: Path, hs: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """``hs/editions.csv``: one row per edition file, in order of entry into force."""
    path = root / "hs" / "editions.csv"
    if not path.is_file():
        raise InputError(_shown(path, root), None, None, "file missing: when each HS edition entered into force")
    frame = _table(_read_rows(path, EditionInForce, root), list(EditionInForce.model_fields))
    previous = None
    for number, row in enumerate(frame.itertuples(index=False), start=2):
        if row.edition not in hs:
            raise InputError(_shown(path, root), number, "edition", f"no hs/{row.edition}.csv")
        if previous is not None and row.edition <= previous.edition:
            raise InputError(_shown(path, root), number, "edition", "editions are listed oldest first, once each")
        if previous is not None and row.in_force_from <= previous.in_force_from:
            raise InputError(_shown(path, root), number, "in_force_from", "not after the previous edition's date")
        previous = row
    missing = sorted(set(hs) - set(frame["edition"]))
    if missing:
        raise InputError(_shown(path, root), None, "edition", f"hs/{missing[0]}.csv has no row: when is it in force?")
    return frame


def _load_lexicon(root: Path, categories: dict[str, Category]) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = root / "lexicon"
    term_frames = []
    for path in sorted(folder.glob("*.csv")):
        if path.name == "negatives.csv":
            continue
        frame = _table(_read_rows(path, Term, root), list(Term.model_fields))
        _check_category_ids(frame["category"], categories, path, root, "category")
        term_frames.append(frame)
    negatives_path = folder / "negatives.csv"
    negatives = _table(_read_rows(negatives_path, Negative, root), list(Negative.model_fields))
    _check_category_ids(negatives["excludes"], categories, negatives_path, root, "excludes")
    terms = pd.concat(term_frames, ignore_index=True)
    return terms, negatives


def load_knowledge(root: Path | str | None = None) -> Knowledge:
    """Load and cross-check the knowledge base (once per folder and process, and compiled on disk until a file
    changes: call it freely)."""
    return _compiled(Path(root).resolve() if root is not None else default_root())


@cache
def _compiled(root: Path) -> Knowledge:
    return load_compiled_knowledge(root, _load, Knowledge)


def _load(root: Path, cache_key: str = "") -> Knowledge:
    if not root.is_dir():
        raise InputError(str(root), None, None, "knowledge base folder not found")
    categories = _load_categories(root)
    hs: dict[int, pd.DataFrame] = {}
    for path in sorted((root / "hs").glob("*.csv")):
        if match := _EDITION_FILE.match(path.name):
            frame = _table(_read_rows(path, HsCode, root), list(HsCode.model_fields))
            _check_hs(frame, path, root)
            hs[int(match.group(1))] = frame
    correlations = _load_correlations(root, hs)
    in_force = _load_in_force(root, hs)

    links_path = root / "att_hs.csv"
    links = _table(_read_rows(links_path, AttLink, root), list(AttLink.model_fields))
    for number, row in enumerate(links.itertuples(index=False), start=2):
        if row.edition not in hs:
            raise InputError(_shown(links_path, root), number, "edition", f"no hs/{row.edition}.csv")
        if row.code not in set(hs[row.edition]["code"]):
            raise InputError(_shown(links_path, root), number, "code", f"{row.code} is not in hs/{row.edition}.csv")
    _check_category_ids(links["category"], categories, links_path, root, "category")
    terms, negatives = _load_lexicon(root, categories)

    children: dict[str, list[str]] = {}
    for category in categories.values():
        if category.parent is not None:
            children.setdefault(category.parent, []).append(category.id)
    return Knowledge(
        root=root,
        categories=categories,
        hs=hs,
        in_force=in_force,
        correlations=correlations,
        links=links,
        terms=terms,
        negatives=negatives,
        _children=children,
        cache_key=cache_key,
    )
