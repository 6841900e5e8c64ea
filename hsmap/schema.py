"""Pydantic models of the knowledge-base files in ``mappings/``: the schema is the documentation."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Confidence = Literal["high", "medium", "low"]
Relation = Literal["exclusive", "shared-military", "shared-civil"]
CorrelationKind = Literal["1:1", "1:n", "n:1", "n:n"]
RelationKind = Literal[  # small words that change what the arms words around them mean
    "purpose",
    "fitted",
    "except",
    "example",
    "qualifier",
    "broader",
    "against",
    "launcher",
    "conjunction",
]
TermKind = Literal["term", "designation", "namesake", "component", "munition", RelationKind]
TermFlag = Literal["outside-register-minimum"]
LookalikeFlag = Literal["replica-or-toy", "deactivated", "antique", "civil"]

HsCodeText = Annotated[str, StringConstraints(pattern=r"^\d{2}$|^\d{4}$|^\d{4}\.\d{2}$")]
Hs6Text = Annotated[str, StringConstraints(pattern=r"^\d{4}\.\d{2}$")]
Weight = Annotated[float, Field(ge=0, le=1)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True)


class Thresholds(_Row):
    """UN Register figures a text's numbers are checked against (``*_max`` is an exclusive bound)."""

    calibre_mm_min: float | None = None
    calibre_mm_max: float | None = None
    displacement_t_min: float | None = None
    range_km_min: float | None = None
    weight_t_min: float | None = None


# A condition on item attributes (``attributes.yaml``): attribute → value(s) or bound(s), ``any_of`` → alternatives.
ConditionValue = str | list[str]
ItemCondition = dict[str, ConditionValue | list[dict[str, ConditionValue]]]


class Category(_Row):
    """An ATT category (Art. 2(1) (a)–(h), Art. 3 or Art. 4) or one of its sub-categories."""

    id: Annotated[str, StringConstraints(pattern=r"^(ART[34]|[IVX]+(\.[a-z]|\.(SA|LW)(\.\d)?)?)$")]
    parent: str | None = None
    article: NonEmpty
    name: NonEmpty
    # its names in the ATT's other working languages, as the treaty's texts and the UN Register write them: a
    # report in French or Spanish may give "Chars de combat" or "Carros de combate" for I
    names: dict[Literal["fr", "es"], list[NonEmpty]] = {}
    definition: NonEmpty
    thresholds: Thresholds | None = None
    items: ItemCondition | None = None  # the definition on item attributes, for proposals' definition check
    ml: list[Annotated[str, StringConstraints(pattern=r"^ML\d{1,2}$")]] = []
    source: NonEmpty
    confidence: Confidence = "high"
    note: str = ""

    @field_validator("parent", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None


class HsCode(_Row):
    """One chapter, heading or subheading of an HS edition, described in our own words."""

    code: HsCodeText
    level: int
    parent: str = ""
    description: NonEmpty
    source: NonEmpty

    @field_validator("level")
    @classmethod
    def _hs_level(cls, value: int) -> int:
        if value not in (2, 4, 6):
            raise ValueError("level is 2 (chapter), 4 (heading) or 6 (subheading)")
        return value


class EditionInForce(_Row):
    """When an HS edition entered into force; it reads declarations until the next edition does."""

    edition: int
    in_force_from: date
    source: NonEmpty
    note: str = ""

    @field_validator("in_force_from")
    @classmethod
    def _first_of_january(cls, value: date) -> date:
        if (value.month, value.day) != (1, 1):
            raise ValueError("a line's edition is chosen by its year: HS editions enter into force on 1 January")
        return value


class Correlation(_Row):
    """A link between a subheading of an older edition and one of the next edition."""

    from_code: Hs6Text
    to_code: Hs6Text
    relation: CorrelationKind
    confidence: Confidence = "high"
    note: str = ""
    source: NonEmpty


class AttLink(_Row):
    """An ATT category ↔ HS code link in one edition, with its relation and prior weight."""

    edition: int
    code: HsCodeText
    category: NonEmpty
    relation: Relation
    weight: Weight
    confidence: Confidence = "high"
    note: str = ""
    source: NonEmpty


class Term(_Row):
    """A word or designation that names an ATT item; ``category`` may list alternatives with ``|``
    (``*`` for a qualifier, which names no arm). ``flag`` is raised on a line the term decides."""

    term: NonEmpty
    category: NonEmpty
    lang: NonEmpty
    kind: TermKind
    weight: Weight = 1.0
    note: str = ""
    flag: TermFlag | None = None


class Negative(_Row):
    """A word marking a look-alike: what flag it raises and which categories it rules out (``*``: all)."""

    term: NonEmpty
    lang: NonEmpty
    flag: LookalikeFlag
    excludes: NonEmpty
    note: str = ""


class UnName(_Row):
    """A State's or area's name as the UN writes it in one of its languages: the M49 name, or UNTERM's short
    (with its article) or formal name."""

    iso3: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    language: Literal["ar", "zh", "es", "fr", "ru", "en"]
    form: Literal["M49", "UNTERM short", "UNTERM formal"]
    name: NonEmpty
    source: NonEmpty
