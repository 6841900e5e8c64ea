"""Partner and reporting States: read the way customs data and ATT reports name a State, return ISO alpha-3.

Customs extracts name partners by ISO alpha-2 (``NE``), alpha-3 (``NER``) or UN M49 / Comtrade numbers
(``562``, ``0562``); ATT reports and declarations write names in any language and script, in current, former
or trade-statistics spellings (``Korea, Rep.``, ``Cayman Isds``, ``Afghanistan (l')``, ``Украина``,
``Deutschland``, ``الأردن``, ``德国``). A reconciliation joins on the State, so every spelling must land on one
code, and a wrong guess is worse than no answer: ``Niger`` must never become ``Nigeria``. Matching is
therefore exact on a normalised key (:func:`name_key`); there is no fuzzy matching. The one loose reading is
for Arabic letters, whose long vowels foreign names are written with or without: a name that matches nothing
is tried by its skeleton (:func:`_skeleton`), only if that leaves five letters or more and no other State and
no region has that skeleton, and its note says so.

Where the names come from, in order of precedence (a lower level wins; two answers on one level make the
name ambiguous, and it stays unresolved with a note that says which States it could be):

1. ``mappings/partners.csv`` (alias, iso3, note, source): what no library has — trade-statistics spellings,
   Comtrade's own numbers (842 USA …) and special partners (0 World, 490 Other Asia nes, EU ``QU`` … ``QZ``;
   an empty ``iso3``: reported as ``special``, never as a country), and names that are ambiguous on purpose
   (``Congo``: ``COD|COG``, reported ``unknown`` with the row's note).
2. ISO 3166-1 alpha-2 and alpha-3 codes, and numeric codes (= UN M49 for countries) with or without zeros.
3. English: pycountry's ISO short, official and common names, and CLDR's English territory names (Babel).
4. The other five UN languages — Arabic, Chinese (simplified and traditional), French, Russian, Spanish —
   from CLDR (Babel), pycountry's ISO translations (short and official names), and the UN's own names in
   ``mappings/un_names.csv`` (M49 and UNTERM short and formal names: ``كابو فيردي``, ``Тимор-Лешти``,
   ``الجمهورية الهيلينية``, which no library has).
5. The national languages of customs data in :data:`LANGUAGES` (German, Portuguese, Italian, Dutch, Polish,
   Ukrainian, Turkish … and the other EU languages), from the same two libraries.
6. The head of an inverted name from 3–5: ``Korea, Republic of`` → ``Korea`` (which ``Korea, Democratic
   People's Republic of`` makes ambiguous), ``Myanmar (Burma)`` → ``Myanmar``.
7. Former States of ISO 3166-3 (pycountry): ``USSR`` → ``SUN``, ``Yugoslavia`` → ``YUG``, ``Czechoslovakia``
   → ``CSK``, ``German Democratic Republic`` → ``DDR``, ``Netherlands Antilles`` → ``ANT``, ``Serbia and
   Montenegro`` → ``SCG``: their own codes with a note, never a successor. A rename is the same State: an
   alias in partners.csv (``Burma`` → ``MMR``, ``East Timor`` → ``TLS``) takes the former name's translations
   along. Their withdrawn numeric codes (810, 890 …) read the same way.

A name is looked up by its words in order, then in any order (``Sudan, South``, UN Arabic ``X (Y - Z)``),
then — for a formal name — without the words that say what kind of State it is (``Republic of``,
``el Reino de``, ``Республика``, ``جمهورية``, ``共和国``), which counts only if what is left is exactly a name.

Before matching, a name loses what differs between copies of one name and never between two names: case,
accents and Arabic short vowels, the forms of alef, ta marbuta and alef maqsura, tatweel, the letters a foreign
name's hard G (``غ``, ``ج`` in Egypt, ``ڨ`` in the Maghreb) and V (``ف``, ``ڤ``) are written with, ``ё``, Latin letters
that stand in a Cyrillic word for their look-alikes (``Coeдинeнныx`` in the UN's own Russian), and
traditional Chinese characters (``烏克蘭`` is ``乌克兰``; OpenCC).

Codes and numbers are resolved from a small table built at once; the name table (levels 3–7, 47 languages
from two libraries and the UN's names, about 16,000 keys) is built by a pure function,
:func:`build_name_table`, the first time a name needs resolving, and kept for the process and, for the
shipped mapping files, in the on-disk cache of :mod:`hsmap.kb_cache` until a file or a library changes.

>>> normalize_partner("Swaziland")
PartnerResult(iso3='SWZ', status='ok', note='former name; ISO short name Eswatini since 2018')
>>> normalize_partner("0562").iso3, normalize_partner("Niger").iso3, normalize_partner("Nigeria").iso3
('NER', 'NER', 'NGA')
>>> normalize_partner("Украина").iso3, normalize_partner("Lietuva").iso3, normalize_partner("Czech Rep.").iso3
('UKR', 'LTU', 'CZE')
>>> normalize_partner("490").status, normalize_partner("Korea").status, normalize_partner("USSR").iso3
('special', 'unknown', 'SUN')
"""

from __future__ import annotations

import csv
import gettext
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import pycountry

from hsmap.errors import InputError

PartnerStatus = Literal["ok", "special", "unknown", "blank"]
STATUSES: tuple[PartnerStatus, ...] = ("ok", "special", "unknown", "blank")
ALIAS_COLUMNS = ("alias", "iso3", "note", "source")

# The languages whose State names are read: (language, CLDR locale read through Babel or "" for none,
# pycountry's gettext catalogue of ISO names). The UN languages first; then the languages customs
# declarations and national reports are written in: the EU's, its neighbours' and large arms traders'.
# Reading a CLDR locale costs about 10 ms (Babel loads the whole locale), a pycountry catalogue about 2 ms,
# so CLDR is read for the languages trade data use most and ISO names for the rest.
UN_LANGUAGES: tuple[tuple[str, str, str], ...] = (
    ("Arabic", "ar", "ar"),
    ("Chinese", "zh", "zh_CN"),
    ("Chinese (traditional)", "zh_Hant", "zh_TW"),
    ("Spanish", "es", "es"),
    ("French", "fr", "fr"),
    ("Russian", "ru", "ru"),
)
CUSTOMS_LANGUAGES: tuple[tuple[str, str, str], ...] = (
    ("German", "de", "de"),
    ("Portuguese", "pt", "pt"),
    ("Italian", "it", "it"),
    ("Dutch", "nl", "nl"),
    ("Polish", "pl", "pl"),
    ("Ukrainian", "uk", "uk"),
    ("Turkish", "tr", "tr"),
    ("Czech", "cs", "cs"),
    ("Swedish", "sv", "sv"),
    ("Japanese", "ja", "ja"),
    ("Korean", "ko", "ko"),
    ("Slovak", "", "sk"),
    ("Slovenian", "", "sl"),
    ("Croatian", "", "hr"),
    ("Serbian", "", "sr"),
    ("Serbian (Latin)", "", "sr@latin"),
    ("Bosnian", "", "bs"),
    ("Macedonian", "", "mk"),
    ("Bulgarian", "", "bg"),
    ("Romanian", "", "ro"),
    ("Hungarian", "", "hu"),
    ("Greek", "", "el"),
    ("Lithuanian", "lt", "lt"),
    ("Latvian", "", "lv"),
    ("Estonian", "", "et"),
    ("Finnish", "", "fi"),
    ("Danish", "", "da"),
    ("Norwegian", "", "nb_NO"),
    ("Albanian", "", "sq"),
    ("Georgian", "", "ka"),
    ("Armenian", "", "hy"),
    ("Azerbaijani", "", "az"),
    ("Kazakh", "", "kk"),
    ("Belarusian", "", "be"),
    ("Hebrew", "", "he"),
    ("Persian", "", "fa"),
    ("Indonesian", "", "id"),
    ("Vietnamese", "", "vi"),
    ("Thai", "", "th"),
    ("Hindi", "", "hi"),
)
LANGUAGES = UN_LANGUAGES + CUSTOMS_LANGUAGES

_NUMERIC = re.compile(r"^\d+(?:\.0+)?$")
_ALIAS_CODE = re.compile(r"^[A-Z]{2,3}$")  # an alias written in capitals like this is a code
_CODE_TEXT = re.compile(r"^[A-Za-z]{2,3}$")  # read as a code first: "NA" is Namibia, "N/A" is not
# ISO 3166-1 leaves these alpha-3 ranges to users (e.g. XKX for Kosovo, used by the EU and the World Bank).
_USER_ASSIGNED = re.compile(r"^(?:AA[A-Z]|Q[M-Z][A-Z]|X[A-Z]{2}|ZZ[A-Z])$")
_AMBIGUOUS = "|"  # an alias whose iso3 lists several codes separated by this is ambiguous on purpose
_BRACKETED = re.compile(r"(.+?)\s*[(（]([^()（）]+)[)）]")  # "Myanmar (Burma)", "伊朗（伊斯兰共和国）"
_ANNOTATIONS = re.compile(r"\[[^\]]*\]")  # editorial remarks such as UNTERM's "[fém.]"
_RUSSIAN_ISLANDS = re.compile(r"\bо-в(а?)\b")  # CLDR's "о-ва", "о-в": острова, остров
_MARKS = re.compile(  # optional marks: Latin, Greek and Cyrillic accents, Hebrew points, Arabic harakat
    "[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u1ab0-\u1aff"
    "\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_LETTERS = str.maketrans(
    {
        "œ": "oe",
        "æ": "ae",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "&": " and ",
        "ة": "ه",
        "ى": "ي",
        "ی": "ي",
        "ک": "ك",
        "غ": "ج",  # a foreign name's hard G: غ in most Arabic writing, ج in Egypt's (غانا/جانا, غرينلاند/جرينلاند)
        "ڨ": "ج",  # and ڨ in the Maghreb's
        "ڤ": "ف",  # a V: ف, or ڤ (فنزويلا/ڤنزويلا)
        "ـ": "",
        "ٱ": "ا",
    }
)
# A word mixing Latin and Cyrillic letters is one word typed with look-alikes ("Coeдинeнныx Штaтoв" in the UN's
# own Russian): the letters of the script it has fewer of become their look-alikes in the other.
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LATIN = re.compile("[a-z]")
_LOOKALIKES_LATIN, _LOOKALIKES_CYRILLIC = "abcehkmoptxyijs", "авсенкмортхуіјѕ"
_TO_CYRILLIC = str.maketrans(_LOOKALIKES_LATIN, _LOOKALIKES_CYRILLIC)
_TO_LATIN = str.maketrans(_LOOKALIKES_CYRILLIC, _LOOKALIKES_LATIN)
_CJK_FIRST = "\u3400"  # text with a character from here up may hold Chinese characters
# Words that carry no identity: articles, "of", "and" in the languages whose forms differ by them alone
# ("Afghanistan (l')", "la República de Albania", "Bosnia y Herzegovina", "Trinidad e Tobago").
_FILLER_WORDS = "the l la le les el los las lo il of de del du des da do dos das di and et y e i und en"
_FILLERS = frozenset(_FILLER_WORDS.split())
# Statistical shortenings and the words they stand for, read as one word: "Rep." = "Republic",
# "Isds" = "Is." = "Islands", "St." = "Saint" = "Sint", "Terr." = "Territory", "Fed. Sts." = "Federated
# States" — applied in names of two or more words only ("Island" alone is Iceland in German).
_SHORTENINGS = {
    **dict.fromkeys(("rep", "republic", "republique", "republica", "repubblica", "republik", "republiek"), "republic"),
    **dict.fromkeys(("dem", "democratic", "democratique", "democratica"), "democratic"),
    **dict.fromkeys(("fed", "federal", "federated", "federation"), "federal"),
    **dict.fromkeys(
        (
            "is",
            "isl",
            "isls",
            "isd",
            "isds",
            "island",
            "islands",
            "isla",
            "islas",
            "ile",
            "iles",
            "ilha",
            "ilhas",
            "isola",
            "isole",
            "остров",
            "острова",
            "جزر",
            "جزيره",
        ),
        "islands",
    ),
    **dict.fromkeys(("st", "saint", "sint"), "saint"),
    **dict.fromkeys(("terr", "ter", "territory", "territories"), "territory"),
    **dict.fromkeys(("sts", "states"), "states"),
    "n": "northern",
    "br": "british",
    "fr": "french",
    "neth": "netherlands",
    "utd": "united",
}
# Words of a formal name that say what kind of State it is, not which ("the Kingdom of Bhutan", "la République
# fédérative du Brésil", "Республика Ирак", "جمهورية شيلي", "马耳他共和国"): a name that matches nothing is read
# once more without them, and counts only if what is left is exactly the name of a State.
_FORM_WORDS_TEXT = (
    "islands republic kingdom state states commonwealth principality federal federative union sultanate grand "
    "duchy islamic democratic people peoples s socialist plurinational bolivarian independent cooperative "
    "hashemite oriental royaume etat etats principaute federale union sultanat duche islamique populaire "
    "socialiste bolivarienne independant hachemite orientale reino estado estados principado federativa sultania "
    "gran ducado islamica popular socialista plurinacional bolivariana independiente cooperativa hachemita "
    "federacion konigreich bundesrepublik furstentum staat regno stato principato popolare krolestwo "
    "республика королевство государство княжество султанат содружество союз федеративная федеративные "
    "исламская демократическая народная народно социалистическая многонациональное боливарианская "
    "независимое великое герцогство восточная штаты "
    "جمهوريه مملكه دوله اماره سلطنه كمنولث اتحاد دوقيه كبري اسلاميه ديمقراطيه شعبيه اتحاديه اشتراكيه "
    "متعدده قوميات بوليفاريه مستقله هاشميه شرقيه تعاونيه ولايات موحده"
)
_FORM_WORDS = frozenset(_FORM_WORDS_TEXT.split())
# The same for Chinese, written without spaces: these endings and "阿拉伯" (Arab) before a name.
_FORM_AFFIXES = (
    "民主社会主义共和国",
    "民主主义人民共和国",
    "联邦民主共和国",
    "伊斯兰共和国",
    "联邦共和国",
    "民主共和国",
    "人民共和国",
    "联合共和国",
    "社会主义共和国",
    "玻利瓦尔共和国",
    "东岸共和国",
    "共和国",
    "大公国",
    "苏丹国",
    "独立国",
    "多民族国",
    "王国",
    "联邦",
    "公国",
    "国",
)
_ARABIC_ARTICLE = "ال"
# Foreign names written in Arabic letters vary in their long vowels (إريتريا/إرتريا, بولينيزيا/بولينزيا). A name
# that matches nothing is read once more by its skeleton — each word without the alef, waw and yeh inside it —
# if five Arabic letters or more are left and the skeleton is that of one State and of no region, whatever the
# precedence: "أوروبا" (Europe) and "أروبا" (Aruba), "غانا" (Ghana) and "غينيا" (Guinea) are too short for it.
_ARABIC = re.compile("[\u0621-\u064a]")
_ARABIC_VOWEL_LETTERS = re.compile("[اوي]")
_SKELETON_MIN = 5
_LOOSE_NOTE = "read without the vowel letters ا و ي inside its words"


# Precedence levels: a lower number wins when two sources give the same key different answers.
_ALIAS, _CODE, _NAME, _UN, _TRANSLATION, _DERIVED, _HISTORIC = range(7)


@dataclass(frozen=True, slots=True)
class PartnerResult:
    """How one partner value was read: the country (None unless ``ok``), a status and a short reason."""

    iso3: str | None
    status: PartnerStatus
    note: str


class _Entry(NamedTuple):
    """What a key means. ``unknown`` entries are ambiguous names; their note lists the States. (A tuple: the
    cached name table of some 13,000 entries unpickles in a third of the time a dataclass takes.)"""

    iso3: str | None
    status: PartnerStatus
    note: str
    level: int


@dataclass(frozen=True)
class NameTable:
    """What every known name means, in two key spaces tried in turn: the words in order (:func:`name_key`)
    and the words in any order (``Sudan, South`` is ``South Sudan``); and, for a name in Arabic letters that
    neither has, its :func:`_skeleton`."""

    exact: dict[str, _Entry]
    bag: dict[str, _Entry]
    skeleton: dict[str, _Entry]

    def find(self, words: list[str]) -> _Entry | None:
        """The entry of these words in order or in any order (None if neither is known)."""
        return self.exact.get("".join(words)) or self.bag.get(_bag(words)) if words else None


class _Separators(dict[int, str | None]):
    """``str.translate`` table: punctuation, symbols and spaces of any script become a space (cached)."""

    def __missing__(self, code: int) -> str | None:
        kind = unicodedata.category(chr(code))[0]
        value = chr(code) if kind in "LMN" else " "
        self[code] = value
        return value


_SEPARATORS = _Separators()


def _words(text: str) -> list[str]:
    """Case-folded words without optional accents, in any script; brackets and apostrophes separate."""
    folded = (_ANNOTATIONS.sub(" ", text) if "[" in text else text).casefold()
    if "о-в" in folded:
        folded = _RUSSIAN_ISLANDS.sub(r"остров\1", folded)
    if folded and max(folded) >= _CJK_FIRST:
        folded = _simplified_chinese(folded)
    plain = _MARKS.sub("", unicodedata.normalize("NFKD", folded.translate(_LETTERS)))
    words = plain.translate(_SEPARATORS).split()
    if _CYRILLIC.search(plain) and _LATIN.search(plain):
        words = [_one_script(word) for word in words]
    return words


def _one_script(word: str) -> str:
    """A word typed in two scripts, in the one it has more letters of: "Coeдинeнныx" → "Соединенных"."""
    cyrillic, latin = len(_CYRILLIC.findall(word)), len(_LATIN.findall(word))
    if not (cyrillic and latin):
        return word
    return word.translate(_TO_CYRILLIC if cyrillic >= latin else _TO_LATIN)


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    import opencc  # imported here: only a name in Chinese characters needs it

    return opencc.OpenCC("t2s").convert


def _simplified_chinese(text: str) -> str:
    """Traditional Chinese characters as simplified ones (OpenCC's t2s): 烏克蘭 → 乌克兰."""
    return _t2s()(text)


def _skeleton(words: list[str]) -> str:
    """A name's words without the Arabic vowel letters inside them, if five Arabic letters or more are left
    ("" otherwise): "بولينزيا الفرنسية" and "بولينيزيا الفرنسية" have one skeleton."""
    if not _ARABIC.search(words[0] if len(words) == 1 else "".join(words)):
        return ""
    skeleton = "".join(
        word[0] + _ARABIC_VOWEL_LETTERS.sub("", word[1:-1]) + word[-1] if len(word) > 2 else word for word in words
    )
    return skeleton if len(_ARABIC.findall(skeleton)) >= _SKELETON_MIN else ""


def _bag(words: list[str]) -> str:
    """The words of a name in any order: "Sudan, South" and "South Sudan" have one bag."""
    return " ".join(sorted(words)) if len(words) > 1 else ""


def name_key(text: str) -> str:
    """The matching key of a name or code: words without case, accents, articles, "of"/"and", joined.

    Works in every script (Arabic loses its article ``ال``; Chinese and Cyrillic are kept as they are), and
    statistical shortenings read as the words they stand for.

    >>> name_key("Côte d’Ivoire") == name_key("COTE DIVOIRE") == name_key("Cote d'Ivoire")
    True
    >>> name_key("Gambia, The"), name_key("Trinidad & Tobago"), name_key("Afghanistan (l') [masc.]")
    ('gambia', 'trinidadtobago', 'afghanistan')
    >>> name_key("Cayman Isds") == name_key("Cayman Islands"), name_key("Dem. Rep.") == name_key("Democratic Republic")
    (True, True)
    >>> name_key("الأردن"), name_key("Украина"), name_key("中国（台湾）")
    ('اردن', 'украина', '中国台湾')
    """
    return "".join(_key_words(text))


def _key_words(text: str) -> list[str]:
    words = _words(text)
    if len(words) > 1:
        words = [_SHORTENINGS.get(word, word) for word in words]
        words = [word for word in words if word not in _FILLERS] or words
    return [word[2:] if word.startswith(_ARABIC_ARTICLE) and len(word) > 3 else word for word in words]


def _core_words(words: list[str], *, keep_islands: bool) -> list[str]:
    """A formal name's words without those that say what kind of State it is ([] if there are none):
    "la República de Albania" → "Albania", "马耳他共和国" → "马耳他"."""
    kept = [word for word in words if word not in _FORM_WORDS or (keep_islands and word == "islands")]
    if kept and len(kept) < len(words):
        return kept
    joined = "".join(words)  # Chinese: one run of characters
    core = joined.removeprefix("阿拉伯")
    for affix in _FORM_AFFIXES:
        if core.endswith(affix) and len(core) > len(affix):
            return [core[: -len(affix)]]
    return [core] if core != joined else []


def _reordered(text: str) -> Iterator[str]:
    """An inverted name the other way round, for scripts written without spaces: 玻利维亚（多民族国） → 多民族国玻利维亚
    (a library may have the second form)."""
    match = _BRACKETED.fullmatch(text.strip())
    if match:
        yield f"{match.group(2)}{match.group(1)}"


def _heads(text: str) -> Iterator[str]:
    """Shorter everyday forms of a library name: the part before a comma or a bracket."""
    stripped = text.strip()
    if stripped.count(",") == 1:
        yield stripped.split(",")[0]
    match = _BRACKETED.fullmatch(stripped)
    if match:
        yield match.group(1)


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _as_text(value: object) -> str:
    """Cell content as text; whole floats (4.0 from a numeric column) lose their '.0'."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value).strip()


@dataclass
class PartnerIndex:
    """Every recognised code, number and spelling, with the answer it gives.

    ``codes`` and ``numbers`` are built at once; ``names`` (the multi-language table) only when a value
    that is neither a code nor a number is read, by calling ``build_names``.
    """

    codes: dict[str, _Entry]
    numbers: dict[int, _Entry]
    build_names: Callable[[], NameTable] = field(repr=False)

    @cached_property
    def names(self) -> NameTable:
        return self.build_names()

    def resolve(self, value: object) -> PartnerResult:
        """Read one value; never raises on data, never guesses."""
        if _is_missing(value):
            return PartnerResult(None, "blank", "")
        text = _as_text(value)
        if not text:
            return PartnerResult(None, "blank", "")
        if _NUMERIC.match(text):
            entry = self.numbers.get(int(text.split(".")[0]))
            if entry is None:
                return PartnerResult(None, "unknown", f"no country or area has the numeric code {text!r}")
            return PartnerResult(entry.iso3, entry.status, entry.note)
        if _CODE_TEXT.match(text):
            entry = self.codes.get(text.upper())
            if entry is not None:
                return PartnerResult(entry.iso3, entry.status, entry.note)
        words = _key_words(text)
        if not words:
            return PartnerResult(None, "unknown", f"no letters or digits in {text!r}")
        entry = self._find(text, words) or self._confirmed(text)
        if entry is None:
            return PartnerResult(None, "unknown", f"no exact match for {text!r}")
        if entry.status == "unknown":
            return PartnerResult(None, "unknown", f"ambiguous: {text!r} could be {entry.note}")
        return PartnerResult(entry.iso3, entry.status, entry.note)

    def _find(self, text: str, words: list[str]) -> _Entry | None:
        """The entry of a name as written, in any word order, or — for a formal name ("Commonwealth of the
        Bahamas", "Республика Ирак", "جمهورية شيلي") — without the words that say what kind of State it is."""
        names = self.names
        entry = names.find(words) or next(
            (names.exact[k] for k in map(name_key, _reordered(text)) if k in names.exact), None
        )
        if entry is None:
            cores = (_core_words(words, keep_islands=keep) for keep in (True, False))
            found = (names.find(core) for core in cores)
            entry = next((entry for entry in found if entry is not None and entry.status == "ok"), None)
        if entry is None and (skeleton := _skeleton(words)):
            entry = names.skeleton.get(skeleton)
            entry = entry if entry is not None and entry.status == "ok" else None
        return entry

    def _confirmed(self, text: str) -> _Entry | None:
        """A name with another name of the same State in brackets ("Китай (Китайская Народная Республика)",
        "Saint-Siège (État de la Cité du Vatican)"): both must name that State, so "Georgia (US state)" is not
        Georgia."""
        match = _BRACKETED.fullmatch(text)
        if match is None:
            return None
        first, second = (self._find(part, _key_words(part)) for part in match.groups())
        if first is None or second is None or first.status != "ok" or first.iso3 != second.iso3:
            return None
        return first


def default_alias_path() -> Path:
    """The shipped ``mappings/partners.csv``."""
    return _shipped("partners.csv")


def default_un_names_path() -> Path:
    """The shipped ``mappings/un_names.csv``."""
    return _shipped("un_names.csv")


def _shipped(name: str) -> Path:
    """A file of the shipped ``mappings/``: inside the installed package, or in a source checkout."""
    packaged = Path(str(resources.files("hsmap"))) / "mappings" / name
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "mappings" / name


class _Builder:
    """Collects candidate keys with their precedence, then settles conflicts."""

    def __init__(self) -> None:
        self.tables: tuple[dict[str, list[_Entry]], ...] = ({}, {}, {})
        self.seen: set[tuple[str, str | None, int]] = set()  # a name comes from many languages: read it once

    def add_name(self, text: str, entry: _Entry) -> None:
        if (text, entry.iso3, entry.level) not in self.seen:
            self.seen.add((text, entry.iso3, entry.level))
            self.add_words(_key_words(text), entry)

    def add_words(self, words: list[str], entry: _Entry) -> None:
        keys = ("".join(words), _bag(words), _skeleton(words) if words else "")
        for table, key in zip(self.tables, keys, strict=True):
            if key:
                table.setdefault(key, []).append(entry)

    def add_region(self, text: str) -> None:
        """A name that is not a State's: its skeleton never reads as one."""
        if skeleton := _skeleton(_key_words(text)):
            self.tables[2].setdefault(skeleton, []).append(_Entry(None, "unknown", "a region", _HISTORIC))

    def build(self) -> NameTable:
        exact, bag, skeleton = self.tables
        return NameTable(self._settle(exact), self._settle(bag), self._settle_loose(skeleton))

    @staticmethod
    def _settle_loose(candidates: dict[str, list[_Entry]]) -> dict[str, _Entry]:
        """One answer a skeleton, only if every name with that skeleton is the same State's."""
        table: dict[str, _Entry] = {}
        for key, entries in candidates.items():
            first = min(entries, key=lambda entry: entry.level)
            if first.status == "ok" and all(entry.iso3 == first.iso3 for entry in entries):
                table[key] = first._replace(note=f"{first.note}, {_LOOSE_NOTE}")
        return table

    @staticmethod
    def _settle(candidates: dict[str, list[_Entry]]) -> dict[str, _Entry]:
        """One answer a key: the lowest level's first, ambiguous if that level gives several States."""
        table: dict[str, _Entry] = {}
        for key, entries in candidates.items():
            level = min(entry.level for entry in entries)
            answers = {entry.iso3: entry for entry in reversed(entries) if entry.level == level}
            if len(answers) == 1:
                table[key] = next(iter(answers.values()))
            else:
                options = " or ".join(sorted(str(iso3) for iso3 in answers))
                table[key] = _Entry(None, "unknown", options, level)
        return table


def _english_names(country: object) -> list[str]:
    names = (getattr(country, attribute, None) for attribute in ("name", "official_name", "common_name"))
    return list(dict.fromkeys(name for name in names if name))


def _catalogue(domain: str, language: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language], fallback=True)


def _cldr_territories(locale: str) -> Iterator[tuple[str, str]]:
    """CLDR's territory names of a locale and of its regional variants (es_419 "Costa de Marfil", ar_LB …),
    as Babel ships them: each file read alone, not merged with its parents (a variant file is small)."""
    from babel import localedata  # imported here: CLDR locales are the cost of the name table

    prefix = f"{locale}_"
    script_of_locale = locale.count("_")  # "zh_Hant": variants are zh_Hant_HK, not zh_Hans_SG
    for name in [locale, *sorted(localedata.locale_identifiers())]:
        parts = name.split("_")
        if name != locale and not (name.startswith(prefix) and len(parts[1 + script_of_locale]) in (2, 3)):
            continue
        yield from localedata.load(name, merge_inherited=False).get("territories", {}).items()


def _region_names() -> Iterator[str]:
    """CLDR's names of regions and groupings (150 Europe, 145 Western Asia, EU …) in the languages written in
    Arabic letters: their skeletons must never read as a State's."""
    from babel import localedata

    for locale in ("ar", "fa"):
        for code, name in localedata.load(locale)["territories"].items():
            if not code.isalpha() or code in ("EU", "EZ", "UN", "QO", "ZZ"):
                yield name


def _library_names() -> Iterator[tuple[str, str, int, str]]:
    """(name, iso3, level, note) for every State name Babel's CLDR data and pycountry have."""
    countries = [(country.alpha_3, _english_names(country)) for country in pycountry.countries]
    alpha2 = {country.alpha_2: country.alpha_3 for country in pycountry.countries}
    alpha2["XK"] = "XKX"  # CLDR's code for Kosovo; XKX is the user-assigned alpha-3 (see partners.csv)
    for iso3, names in countries:
        for name in names:
            yield name, iso3, _NAME, "ISO 3166-1 name"
    for code, name in _cldr_territories("en"):
        if code in alpha2:  # numeric regions (150 Europe, 202 Sub-Saharan Africa …) and EU, UN, ZZ are not States
            yield name, alpha2[code], _NAME, "CLDR English name"
    for language, locale, catalogue_language in LANGUAGES:
        level = _UN if (language, locale, catalogue_language) in UN_LANGUAGES else _TRANSLATION
        if locale:
            for code, name in _cldr_territories(locale):
                if code in alpha2:
                    yield name, alpha2[code], level, f"{language} name (CLDR)"
        catalogue = _catalogue("iso3166-1", catalogue_language)
        for iso3, names in countries:
            for name in names:
                translated = catalogue.gettext(name)
                if translated != name:
                    yield translated, iso3, level, f"{language} ISO 3166-1 name"


def _un_names(un_names: pd.DataFrame) -> Iterator[tuple[str, str, int, str]]:
    """(name, iso3, level, note) for the UN's own names: English among the English names, the others among
    the names of the UN languages."""
    languages = {locale: language for language, locale, _ in UN_LANGUAGES}
    for iso3, language, form, name in un_names[["iso3", "language", "form", "name"]].itertuples(index=False):
        level = _NAME if language == "en" else _UN
        yield name, iso3, level, f"{languages.get(language, 'English')} {form} name (UN)"


def _renames(aliases: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Former States of ISO 3166-3 whose former name partners.csv gives to a current State (``Burma`` → MMR,
    ``Zaire`` → COD): a rename, not a State that ceased — alpha-3 of the former entry → (current alpha-3, the
    alias's note). A current State's own name does not count (``Viet-Nam, Democratic Republic of`` stays VDR)."""
    current = {country.alpha_3 for country in pycountry.countries}
    current_names = {name_key(name) for country in pycountry.countries for name in _english_names(country)}
    declared = {
        key: (iso3, note)
        for alias, iso3, note in aliases[["alias", "iso3", "note"]].itertuples(index=False)
        if iso3 in current and (key := name_key(alias)) not in current_names
    }
    renamed: dict[str, tuple[str, str]] = {}
    for former in pycountry.historic_countries:
        for name in _english_names(former):
            for text in (name, *_heads(name)):
                if (successor := declared.get(name_key(text))) is not None:
                    renamed.setdefault(former.alpha_3, successor)
    return renamed


def _historic_names(renamed: dict[str, tuple[str, str]]) -> Iterator[tuple[str, str, str]]:
    """(name, alpha-3, note) of the former States of ISO 3166-3, in English and in :data:`LANGUAGES`; a renamed
    State's former names (``تيمور الشرقية``, East Timor in Arabic) are the current State's."""
    catalogues = [_catalogue("iso3166-3", language) for _, _, language in LANGUAGES]
    for former in pycountry.historic_countries:
        iso3, note = renamed.get(former.alpha_3) or (former.alpha_3, historic_note(former.alpha_3) or "")
        for name in _english_names(former):
            for text in dict.fromkeys([name, *(catalogue.gettext(name) for catalogue in catalogues)]):
                yield text, iso3, note


def historic_note(iso3: str) -> str | None:
    """Why a former State's code is kept as it is (None if ``iso3`` is not in ISO 3166-3)."""
    former = pycountry.historic_countries.get(alpha_3=iso3)
    if former is None:
        return None
    return (
        f"former {former.name} (ISO 3166-3 {former.alpha_4}, withdrawn {former.withdrawal_date}): "
        "kept as its own code, never read as a successor State"
    )


def build_name_table(
    aliases: pd.DataFrame, un_names: pd.DataFrame, *, file: str = "mappings/partners.csv"
) -> NameTable:
    """Every name of every State, keyed by :func:`name_key`: a pure function of the alias table, the UN's names
    and the installed libraries (its result can be cached). An alias that contradicts a library or UN name
    raises InputError.
    """
    builder = _Builder()
    derived: list[tuple[list[str], _Entry]] = []
    entries: dict[tuple[str, int, str], _Entry] = {}
    for name, iso3, level, note in _library_names():
        entry = entries.get((iso3, level, note))
        if entry is None:
            entry = entries[iso3, level, note] = _Entry(iso3, "ok", note, level)
        builder.add_name(name, entry)
        short = _Entry(iso3, "ok", f"short form of {name!r}", _DERIVED)
        derived.extend((words, short) for words in _forms(name))
    for name, iso3, level, note in _un_names(un_names):
        builder.add_name(name, _Entry(iso3, "ok", note, level))
    for name, iso3, note in _historic_names(_renames(aliases)):
        builder.add_name(name, _Entry(iso3, "ok", note, _HISTORIC))
        derived.extend((words, _Entry(iso3, "ok", note, _HISTORIC)) for words in _forms(name))
    for words, entry in derived:
        builder.add_words(words, entry)
    for name in _region_names():
        builder.add_region(name)
    library = builder.build()
    for record in aliases.itertuples(index=False):
        if record.alias.isdigit() or _ALIAS_CODE.match(record.alias):
            continue
        entry = _alias_entry(record.iso3, record.note)
        official = library.exact.get(name_key(record.alias))
        if official is not None and official.level <= _TRANSLATION and official.iso3 is not None:
            allowed = set(record.iso3.split(_AMBIGUOUS)) if record.iso3 else set()
            if official.iso3 not in allowed:
                raise InputError(
                    file,
                    int(record.row),
                    "alias",
                    f"{record.alias!r} is {official.iso3} ({official.note}), not {record.iso3 or 'special'}",
                )
        builder.add_name(record.alias, entry)
    return builder.build()


def _forms(name: str) -> Iterator[list[str]]:
    """Everyday forms of a library name: the part before a comma or bracket ("Korea, Republic of" → "Korea",
    which Korea's other half makes ambiguous; "Myanmar (Burma)" → "Myanmar")."""
    if "," in name or "(" in name or "（" in name:
        yield from map(_key_words, _heads(name))


def _alias_entry(iso3: str, note: str) -> _Entry:
    if _AMBIGUOUS in iso3:
        return _Entry(None, "unknown", note, _ALIAS)
    return _Entry(iso3 or None, "ok" if iso3 else "special", note, _ALIAS)


def _alias_key(alias: str) -> str:
    """Numbers, upper-case 2–3 letter codes and names live in separate key spaces."""
    if alias.isdigit():
        return f"#{int(alias)}"
    if _ALIAS_CODE.match(alias):
        return f"@{alias}"
    return name_key(alias)


def _known_iso3() -> frozenset[str]:
    current = {country.alpha_3 for country in pycountry.countries}
    return frozenset(current | {former.alpha_3 for former in pycountry.historic_countries})


def _check_iso3(iso3: str, known: frozenset[str]) -> str | None:
    """Why an alias's iso3 cell is wrong, or None."""
    codes = iso3.split(_AMBIGUOUS)
    if len(codes) > 1 and len(set(codes)) != len(codes):
        return f"{iso3!r} lists a code twice"
    for code in codes:
        if not (code in known or _USER_ASSIGNED.match(code)):
            return f"{code!r} is not an ISO 3166-1 or 3166-3 alpha-3 code"
    return None


def load_aliases(path: Path | str | None = None) -> pd.DataFrame:
    """Read and check the alias table; a bad row raises InputError naming the file, row and column."""
    source = Path(path) if path is not None else default_alias_path()
    shown = f"mappings/{source.name}" if path is None else str(source)
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or tuple(cell.strip() for cell in rows[0]) != ALIAS_COLUMNS:
        raise InputError(shown, 1, None, f"the header must be {','.join(ALIAS_COLUMNS)}")
    known = _known_iso3()
    records: list[dict[str, str]] = []
    seen: dict[str, tuple[int, str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(ALIAS_COLUMNS):
            raise InputError(shown, number, None, f"expected {len(ALIAS_COLUMNS)} fields, found {len(row)}")
        record = dict(zip(ALIAS_COLUMNS, (cell.strip() for cell in row), strict=True))
        alias, iso3 = record["alias"], record["iso3"]
        if not alias:
            raise InputError(shown, number, "alias", "empty alias")
        if iso3 and (problem := _check_iso3(iso3, known)):
            raise InputError(shown, number, "iso3", problem)
        if not record["source"]:
            raise InputError(shown, number, "source", "every alias names its source")
        if (not iso3 or _AMBIGUOUS in iso3) and not record["note"]:
            what = "an ambiguous name (several codes)" if iso3 else "a special partner (empty iso3)"
            raise InputError(shown, number, "note", f"{what} needs a note saying what it is")
        key = _alias_key(alias)
        if not key:
            raise InputError(shown, number, "alias", f"{alias!r} has no letters or digits")
        if key in seen:
            first_row, first_iso3 = seen[key]
            if first_iso3 == iso3:
                message = f"{alias!r} is the same spelling as row {first_row} once case and punctuation go"
            else:
                message = f"{alias!r} means {iso3 or 'special'} here but {first_iso3 or 'special'} in row {first_row}"
            raise InputError(shown, number, "alias", message)
        seen[key] = (number, iso3)
        records.append(record | {"row": str(number)})
    return pd.DataFrame.from_records(records, columns=[*ALIAS_COLUMNS, "row"])


def load_un_names(path: Path | str | None = None) -> pd.DataFrame:
    """Read and check the UN's names (default: the shipped ``mappings/un_names.csv``); a bad row raises
    InputError naming the file, row and column."""
    from hsmap.knowledge import _read_rows  # the loader of every mapping file; pydantic only when needed
    from hsmap.schema import UnName

    source = Path(path) if path is not None else default_un_names_path()
    rows = _read_rows(source, UnName, source.parent)
    shown = f"mappings/{source.name}" if path is None else str(source)
    current = {country.alpha_3 for country in pycountry.countries}
    seen: set[tuple[str, str, str]] = set()
    for number, row in enumerate(rows, start=2):
        if row.iso3 not in current:
            raise InputError(shown, number, "iso3", f"{row.iso3!r} is not an ISO 3166-1 alpha-3 code")
        if (row.iso3, row.language, row.name) in seen:
            raise InputError(shown, number, "name", f"{row.name!r} is listed twice for {row.iso3} ({row.language})")
        seen.add((row.iso3, row.language, row.name))
    return pd.DataFrame.from_records([row.model_dump() for row in rows], columns=list(UnName.model_fields))


def _iso_codes() -> tuple[dict[str, _Entry], dict[int, _Entry]]:
    """ISO 3166-1 codes and numbers, and the withdrawn numbers of ISO 3166-3 not given to anyone since."""
    codes: dict[str, _Entry] = {}
    numbers: dict[int, _Entry] = {}
    for country in pycountry.countries:
        codes[country.alpha_2] = _Entry(country.alpha_3, "ok", "ISO 3166-1 alpha-2 code", _CODE)
        codes[country.alpha_3] = _Entry(country.alpha_3, "ok", "ISO 3166-1 alpha-3 code", _CODE)
        numbers[int(country.numeric)] = _Entry(country.alpha_3, "ok", "ISO 3166-1 numeric / UN M49 code", _CODE)
    for former in sorted(pycountry.historic_countries, key=lambda former: str(former.withdrawal_date)):
        number = int(getattr(former, "numeric", "") or -1)
        current = numbers.get(number)
        if number >= 0 and (current is None or current.level == _HISTORIC):
            numbers[number] = _Entry(former.alpha_3, "ok", historic_note(former.alpha_3) or "", _HISTORIC)
    return codes, numbers


def _code_tables(aliases: pd.DataFrame, file: str) -> tuple[dict[str, _Entry], dict[int, _Entry]]:
    """ISO codes and numbers with the alias rows that are codes or numbers; a contradiction raises."""
    codes, numbers = _iso_codes()
    for record in aliases.itertuples(index=False):
        entry = _alias_entry(record.iso3, record.note)
        if record.alias.isdigit():
            number = int(record.alias)
            official = numbers.get(number)
            if official is not None and official.level == _CODE and official.iso3 != entry.iso3:
                wanted = record.iso3 or "special"
                message = f"numeric code {record.alias} is {official.iso3} in ISO 3166-1, not {wanted}"
                raise InputError(file, int(record.row), "alias", message)
            numbers[number] = entry
        elif _ALIAS_CODE.match(record.alias):
            official = codes.get(record.alias)
            if official is not None and official.iso3 != entry.iso3:
                wanted = record.iso3 or "special"
                message = f"{record.alias!r} is {official.iso3} in ISO 3166-1 ({official.note}), not {wanted}"
                raise InputError(file, int(record.row), "alias", message)
            codes[record.alias] = entry
    return codes, numbers


def build_index(
    aliases: pd.DataFrame, *, file: str = "mappings/partners.csv", names: Callable[[], NameTable] | None = None
) -> PartnerIndex:
    """The index for an alias table: codes and numbers now, names when first needed (from ``names``, or
    built from the aliases and the shipped UN names).

    An alias that contradicts an ISO code raises InputError here; one that contradicts a library name
    raises when the name table is built.
    """
    codes, numbers = _code_tables(aliases, file)
    return PartnerIndex(codes, numbers, names or (lambda: build_name_table(aliases, load_un_names(), file=file)))


@lru_cache(maxsize=8)
def _cached_index(path: str | None) -> PartnerIndex:
    file = "mappings/partners.csv" if path is None else path
    alias_file = default_alias_path() if path is None else Path(path)
    aliases, codes, numbers = _cached_code_tables(alias_file, path, file)
    return PartnerIndex(codes, numbers, lambda: _cached_name_table(alias_file, aliases, file))


def _cached_code_tables(
    alias_file: Path, path: str | None, file: str
) -> tuple[pd.DataFrame, dict[str, _Entry], dict[int, _Entry]]:
    """The checked alias table and :func:`_code_tables` from the on-disk cache while the alias file, hsmap and
    the libraries the check reads are the same as when they were built (checking the aliases reads every
    ISO code and reduces every alias, Chinese ones with OpenCC: a twentieth of a second of every start)."""
    from hsmap import kb_cache

    def build() -> tuple[pd.DataFrame, dict[str, _Entry], dict[int, _Entry]]:
        aliases = load_aliases(path)
        return (aliases, *_code_tables(aliases, file))

    inputs = [file.encode() + b"\0", alias_file.read_bytes()]
    return kb_cache.cached_build("partner-codes", inputs, ("pycountry", "opencc"), build, tuple)


def _cached_name_table(alias_file: Path, aliases: pd.DataFrame, file: str) -> NameTable:
    """:func:`build_name_table` from the on-disk cache while the alias file, the UN names, hsmap and the
    libraries the names come from are the same as when it was built (about 1 s to build, 0.1 s to load)."""
    from hsmap import kb_cache

    un_file = default_un_names_path()
    inputs = [file.encode() + b"\0", alias_file.read_bytes() + b"\0", un_file.read_bytes()]
    build = lambda: build_name_table(aliases, load_un_names(un_file), file=file)  # noqa: E731
    return kb_cache.cached_build("partner-names", inputs, ("babel", "pycountry", "opencc"), build, NameTable)


def load_partner_index(path: Path | str | None = None) -> PartnerIndex:
    """The index for an alias file (default: the shipped one), built once per file and cached."""
    return _cached_index(None if path is None else str(Path(path).resolve()))


def normalize_partner(value: object, index: PartnerIndex | None = None) -> PartnerResult:
    """Read one partner value (name, ISO code or M49 number) into an ISO alpha-3 code, a status and a note."""
    return (index or load_partner_index()).resolve(value)


def normalize_partners(series: pd.Series, index: PartnerIndex | None = None) -> pd.DataFrame:
    """Vectorised normalize_partner: resolves each distinct value once, then maps back to every row.

    Returns a frame aligned on ``series.index`` with ``partner_iso3`` (missing unless resolved),
    ``partner_status`` (categorical: ok, special, unknown, blank) and ``partner_note``.
    """
    table = index or load_partner_index()
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    results = [table.resolve(value) for value in uniques]
    results.append(PartnerResult(None, "blank", ""))  # code -1 (missing) picks this last entry
    iso3 = np.array([result.iso3 for result in results], dtype=object)
    status = np.array([STATUSES.index(result.status) for result in results], dtype=np.int8)
    note = np.array([result.note for result in results], dtype=object)
    return pd.DataFrame(
        {
            "partner_iso3": pd.array(iso3[codes], dtype="str"),
            "partner_status": pd.Categorical.from_codes(status[codes], categories=list(STATUSES)),
            "partner_note": pd.array(note[codes], dtype="str"),
        },
        index=series.index,
    )


def country_name(iso3: str) -> str:
    """A readable name for an alpha-3 code: the ISO short (or common) name, a former State's ISO 3166-3
    name, or "" when ISO has none (user-assigned codes such as XKX)."""
    if not (len(iso3) == 3 and iso3.isalpha() and iso3.isupper()):
        return ""
    country = pycountry.countries.get(alpha_3=iso3) or pycountry.historic_countries.get(alpha_3=iso3)
    if country is None:
        return ""
    return str(getattr(country, "common_name", None) or country.name)
