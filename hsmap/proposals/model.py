"""The proposal file: typed models of ``mappings/proposals/*.yaml`` and how a file is found and read.

A proposal replaces current subheadings of one HS edition (``base_edition``) with new ones, written as the
HS writes them: in text order, each line with its indentation (one dash or two) and, for lines that are
subheadings, a six-digit code. Text lines without a code (``- Helicopters:``) head the two-dash subheadings
below them. Each line may carry ``criteria``, the definition its text and subheading note give, as a
condition on item attributes (``mappings/attributes.yaml``); ``goods`` says which items the replaced codes
hold. The format is documented in ``mappings/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from hsmap.errors import InputError
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.schema import ItemCondition

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Severity = Literal["error", "warning"]
_ID = r"^[a-z0-9][a-z0-9_-]*$"


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class CurrentCode(_Item):
    """A subheading of the base edition that the amendment deletes; ``text`` defaults to our description."""

    code: NonEmpty
    text: str = ""


class NewLine(_Item):
    """One line of the proposed text: a subheading (with ``code``) or a text line heading two-dash ones."""

    code: str | None = None
    level: int
    text: NonEmpty
    criteria: ItemCondition = {}
    isolates: list[NonEmpty] = []
    holds: list[NonEmpty] = []
    residual: bool = False
    definition: str = ""
    decidable: Literal["yes", "partly", "no"] = "yes"
    note: str = ""

    @field_validator("code", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None

    @property
    def label(self) -> str:
        return self.code or f"'{self.text}'"


class Link(_Item):
    """Correlation: where the goods of one current subheading go among the proposed ones."""

    from_code: NonEmpty = Field(alias="from")
    to: list[NonEmpty] = Field(min_length=1)
    note: str = ""


class Amendment(_Item):
    """Current subheadings of one heading, deleted together, and the lines that replace them."""

    replaces: list[CurrentCode] = Field(min_length=1)
    heading_text: str = ""
    goods: list[ItemCondition] = []  # the items the replaced codes hold, for the definition check
    lines: list[NewLine] = Field(min_length=1)
    correlation: list[Link] = []
    subheading_notes: list[str] = []
    consequential: list[str] = []  # other changes to the legal text the amendment needs, in WCO form
    justification: str = ""
    notes: list[str] = []

    @property
    def heading(self) -> str:
        return self.replaces[0].code[:4]

    @property
    def chapter(self) -> str:
        return self.replaces[0].code[:2]

    @property
    def current_codes(self) -> list[str]:
        return [current.code for current in self.replaces]

    @property
    def subheadings(self) -> list[NewLine]:
        return [line for line in self.lines if line.code]


class Proposal(_Item):
    """A set of amendments to one HS edition, with who prepared it and what it claims to isolate."""

    id: Annotated[str, StringConstraints(pattern=_ID)]
    title: NonEmpty
    status: Literal["draft", "adopted"]
    prepared_by: NonEmpty
    submitted_by: str = ""  # the delegation tabling it, when one does
    disclaimer: str = ""
    base_edition: int
    target: NonEmpty
    summary: str = ""
    isolates: list[NonEmpty] = []
    amendments: list[Amendment] = Field(min_length=1)
    notes: list[str] = []
    source: NonEmpty

    @property
    def subheadings(self) -> list[NewLine]:
        return [line for amendment in self.amendments for line in amendment.subheadings]

    @property
    def author(self) -> str:
        """Who a document of the proposal names as its author: the submitting delegation, else hsmap."""
        return self.submitted_by or "hsmap draft"


@dataclass(frozen=True)
class Problem:
    """One broken rule: the code (or category) concerned, the rule's name, and what to fix."""

    code: str
    rule: str
    message: str
    severity: Severity = "error"


def proposals_folder(kb: Knowledge | None = None) -> Path:
    return (kb or load_knowledge()).root / "proposals"


def shipped_proposals(kb: Knowledge | None = None) -> list[Path]:
    """The proposal files shipped in ``mappings/proposals/``, by name."""
    return sorted(proposals_folder(kb).glob("*.yaml"))


def find_proposal(name: str | Path, kb: Knowledge | None = None) -> Path:
    """A proposal file: a path to a .yaml, or the file name (without .yaml) of a shipped one."""
    path = Path(name)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise InputError(str(path), None, None, "file not found")
        return path
    shipped = shipped_proposals(kb)
    for candidate in shipped:
        if candidate.stem == str(name) or candidate.stem.replace("_", "-") == str(name):
            return candidate
    known = ", ".join(candidate.stem for candidate in shipped) or "none"
    raise InputError(None, None, None, f"no proposal named {str(name)!r} (shipped: {known}; or give a .yaml file)")


def load_proposal(name: str | Path, kb: Knowledge | None = None) -> Proposal:
    """Read and type-check a proposal; a missing or mistyped field fails with its path in the file.

    Every scalar is read as text (YAML would turn ``8710.00`` into the number 8710.0), then typed by the model.
    """
    path = find_proposal(name, kb)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise InputError(str(path), None if mark is None else mark.line + 1, None, "not valid YAML") from None
    if not isinstance(data, dict):
        raise InputError(str(path), None, None, "a proposal is a mapping with id, title, amendments …")
    try:
        return Proposal.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(str(path), None, where or None, first["msg"]) from None
