"""Tokenising whole columns: the numpy fast path for ASCII and the Unicode path must cut texts alike."""

import unicodedata

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from hsmap.classify.tokens import normalize_text, readable, tokenize


def reference_tokens(text: str) -> list[str]:
    """The rule written out character by character: decompose, drop marks, lower-case, then runs of letters,
    runs of ASCII digits and runs of other digits are tokens; everything else separates them."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if unicodedata.category(c) != "Mn").lower()
    tokens: list[str] = []
    previous = None
    for character in text:
        category = unicodedata.category(character)
        kind = (
            "digit"
            if character in "0123456789"
            else "other digit"
            if category.startswith("N")
            else "letter"
            if category.startswith("L")
            else None
        )
        if kind is None:
            previous = None
            continue
        if kind == previous:
            tokens[-1] += character
        else:
            tokens.append(character)
        previous = kind
    return tokens


def test_designations_read_the_same_however_they_are_written():
    written = ["T-72", "t72", "T 72", "T‑72", "  t__72 ", "Т-72Б3"]
    assert normalize_text(written) == ["t 72", "t 72", "t 72", "t 72", "t 72", "т 72 б 3"]


def test_accents_case_and_punctuation_go_and_blank_texts_give_no_tokens():
    tokens = tokenize(["Obús 155mm, autopropulsé", "", None, "FUSIL D'ASSAUT 5,56×45", "مدفع ١٢٠مم"]).to_pylist()
    assert tokens[:4] == [["obus", "155", "mm", "autopropulse"], [], [], ["fusil", "d", "assaut", "5", "56", "45"]]
    assert tokens[4] == ["مدفع", "١٢٠", "مم"]  # digits of any script stand apart from letters


def test_the_arabic_article_and_for_the_are_cut_from_their_noun():
    written = ["البنادق الهجومية", "والدبابات", "قطع غيار للدبابات", "الة"]  # "الة": too short to hold an article
    assert normalize_text(written) == ["بنادق هجومية", "ودبابات", "قطع غيار ل دبابات", "الة"]


def test_a_sliced_or_chunked_column_is_cut_like_the_whole():
    texts = ["RIFLE AK-47", "Ж1", "", "9mm pistols", "CANON 30MM", "x"]
    whole = tokenize(texts).to_pylist()
    assert tokenize(pa.array(texts).slice(2)).to_pylist() == whole[2:]
    assert tokenize(pa.chunked_array([texts[:3], texts[3:]])).to_pylist() == whole


@given(st.lists(st.text(alphabet=st.sampled_from(list("aZé9 -_.,/ÇñßЖжΩω٣x×²\t")), max_size=12), max_size=20))
def test_tokens_follow_the_rule_for_ascii_and_unicode_texts_mixed_in_one_column(texts):
    assert tokenize(texts).to_pylist() == [reference_tokens(text) for text in texts]


def test_html_entities_and_utf8_read_as_windows_1252_are_mended_for_reading():
    texts = pa.array(
        [
            "Fusils d&#39;assaut",  # what a web form's export leaves
            "reduced-size (&quot;scale&quot;) model assembly kits",  # the US tariff's own text
            "VÃ©hicules blindÃ©s de combat",  # UTF-8 read as Windows-1252
            "FUSIL Dâ€™ASSAUT",
            "SÃO PAULO, 9 MM",  # Portuguese, no garbling: kept
            "T-72 & BMP-2",  # a bare ampersand: kept
        ]
    )
    assert readable(texts).to_pylist() == [
        "Fusils d'assaut",
        'reduced-size ("scale") model assembly kits',
        "Véhicules blindés de combat",
        "FUSIL D’ASSAUT",
        "SÃO PAULO, 9 MM",
        "T-72 & BMP-2",
    ]


_CLEAN = st.characters(blacklist_categories=("Cs",), blacklist_characters="&ÃÂâ")  # no surrogate, nothing garbled


@given(st.lists(st.text(_CLEAN, max_size=30), max_size=20))
def test_texts_with_nothing_garbled_are_read_as_they_are(texts):
    array = pa.array(texts, type=pa.string())
    assert readable(array).equals(array)


_ANY = st.characters(blacklist_categories=("Cs",))
_GARBLING = st.sampled_from(["&#39;", "&amp;", "&#x110000;", "&#0;", "&bogus;", "Ã©", "â€™", "Â ", "Ã"])


@given(st.lists(st.lists(st.one_of(st.text(_ANY, max_size=8), _GARBLING), max_size=6).map("".join), max_size=20))
def test_mending_any_text_keeps_one_text_per_text(texts):
    """Entities out of range, bare ampersands, stray "Ã": whatever a cell holds, each text comes back as one text."""
    mended = readable(pa.array(texts, type=pa.string()))
    assert len(mended) == len(texts) and mended.null_count == 0
