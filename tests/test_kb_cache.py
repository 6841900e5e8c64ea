"""The compiled knowledge base: built and validated once, served from the cache folder until a mapping file
changes, and never a reason to fail."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hsmap import knowledge
from hsmap.errors import InputError
from hsmap.knowledge import load_knowledge

ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def own_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """A per-process memory of loaded bases of this test's own (the other tests keep theirs)."""
    monkeypatch.setattr(knowledge, "_compiled", functools.cache(knowledge._compiled.__wrapped__))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("HSMAP_CACHE_DIR", str(folder))
    return folder


def _fresh_load(root: Path):
    """What a new process would get: nothing in memory, only what is on disk."""
    knowledge._compiled.cache_clear()
    return load_knowledge(root)


def _pickles(folder: Path) -> list[Path]:
    return sorted(folder.glob("knowledge-*.pickle"))


def test_a_second_process_loads_the_compiled_base_without_validating_again(cache, mappings_copy, monkeypatch):
    built = _fresh_load(mappings_copy)
    assert len(_pickles(cache)) == 1

    def no_rebuild(root: Path):
        raise AssertionError("the mapping files were read again")

    monkeypatch.setattr(knowledge, "_load", no_rebuild)
    loaded = _fresh_load(mappings_copy)
    assert loaded is not built
    assert loaded.root == mappings_copy.resolve()
    assert loaded.categories == built.categories
    assert loaded.terms.equals(built.terms) and loaded.links.equals(built.links)
    assert loaded.descendants("VIII") == built.descendants("VIII")


def test_an_edited_mapping_file_is_a_new_cache_and_the_edit_is_seen(cache, mappings_copy):
    before = _fresh_load(mappings_copy)
    path = mappings_copy / "categories.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: Battle tanks", "name: Main battle tanks", 1))
    after = _fresh_load(mappings_copy)
    assert before.label("I") == "Battle tanks"
    assert after.label("I") == "Main battle tanks"
    assert len(_pickles(cache)) == 2


def test_an_edit_that_breaks_a_file_is_reported_even_after_a_good_build_was_cached(cache, mappings_copy):
    _fresh_load(mappings_copy)
    path = mappings_copy / "att_hs.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",exclusive,", ",sometimes,", 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"mappings/att_hs\.csv"):
        _fresh_load(mappings_copy)


def test_a_corrupt_cache_file_is_rebuilt_silently(cache, mappings_copy):
    _fresh_load(mappings_copy)
    [pickle] = _pickles(cache)
    pickle.write_bytes(b"\x80\x05not a pickle at all")
    assert _fresh_load(mappings_copy).label("I") == "Battle tanks"
    [rebuilt] = _pickles(cache)
    assert rebuilt == pickle and rebuilt.read_bytes().startswith(b"\x80") and rebuilt.stat().st_size > 10_000


def test_a_cache_folder_that_cannot_be_written_leaves_hsmap_working(tmp_path, mappings_copy, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("HSMAP_CACHE_DIR", str(blocker / "cache"))  # cannot be created, even by root
    assert _fresh_load(mappings_copy).label("I") == "Battle tanks"
    assert blocker.read_text(encoding="utf-8") == "not a folder"


# --- what is compiled from the knowledge base and the libraries ------------------------------------------


def _lexicon(root: Path):
    """The compiled lexicon a new process would get for ``root``."""
    from hsmap.matching import lexicon_for

    return lexicon_for(_fresh_load(root))


def test_a_second_process_loads_the_compiled_lexicon_without_compiling_it(cache, mappings_copy, monkeypatch):
    from hsmap import matching

    built = _lexicon(mappings_copy)
    assert len(list(cache.glob("lexicon-*.pickle"))) == 1

    def no_rebuild(kb):
        raise AssertionError("the lexicon was compiled again")

    monkeypatch.setattr(matching, "build_lexicon", no_rebuild)
    loaded = _lexicon(mappings_copy)
    assert loaded is not built and loaded == built
    assert loaded.terms["leopard 2"] == built.terms["leopard 2"]


def test_an_edited_lexicon_file_is_seen_by_the_compiled_lexicon_and_the_classifier(cache, mappings_copy):
    from hsmap.classify import Classifier, classify

    lines = pd.DataFrame({"hs_code": [""], "description": ["TRACKED VEHICLE ZORVAK-7, 2 UNITS"]})
    before = _lexicon(mappings_copy)
    path = mappings_copy / "lexicon" / "designations.csv"
    with path.open("a", encoding="utf-8") as file:
        file.write('Zorvak-7,I,any,designation,1.0,"main battle tank (a designation added by a reviewer)",\n')
    after = _lexicon(mappings_copy)
    assert "zorvak 7" not in before.terms and [hit.term for hit in after.terms["zorvak 7"]] == ["Zorvak-7"]
    kb = load_knowledge(mappings_copy)
    assert classify(lines, kb=kb, classifier=Classifier(kb, 2022))["att_category"].tolist() == ["I"]
    assert len(list(cache.glob("lexicon-*.pickle"))) == 2


def test_damaged_compiled_files_are_rebuilt_and_give_the_same_answers(cache, mappings_copy):
    from hsmap.matching import _real_words

    built = _lexicon(mappings_copy)
    words = _real_words("en", built)
    for pickle in cache.glob("*.pickle"):
        pickle.write_bytes(pickle.read_bytes()[: pickle.stat().st_size // 2])  # a write cut short
    again = _lexicon(mappings_copy)
    assert again == built and _real_words("en", again) == words and "airliner" in words
    assert all(pickle.stat().st_size > 1_000 for pickle in cache.glob("*.pickle"))


def test_without_a_writable_cache_folder_everything_is_built_in_memory(tmp_path, mappings_copy, monkeypatch):
    from hsmap.countries import build_index, load_aliases
    from hsmap.matching import _real_words

    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("HSMAP_CACHE_DIR", str(blocker / "cache"))
    lexicon = _lexicon(mappings_copy)
    assert lexicon.terms["leopard 2"] and "airliner" in _real_words("en", lexicon)
    assert build_index(load_aliases()).resolve("Deutschland").iso3 == "DEU"
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_the_partner_name_table_follows_its_alias_table(cache):
    from hsmap.countries import build_index, load_aliases

    aliases = load_aliases()
    shipped = build_index(aliases).resolve("Freedonia")
    added = pd.DataFrame([{"alias": "Freedonia", "iso3": "FRA", "note": "", "source": "a test", "row": "999"}])
    edited = build_index(pd.concat([aliases, added], ignore_index=True)).resolve("Freedonia")
    assert (shipped.status, edited.iso3) == ("unknown", "FRA")
    assert build_index(aliases).resolve("Freedonia").status == "unknown"  # the first table is still the shipped one's
    assert len(list(cache.glob("partner-names-*.pickle"))) == 2


def test_the_short_lists_of_real_words_answer_as_the_whole_word_lists(kb):
    """Every word of a general list that a typo test can meet — at least the typo cutoff alike a fuzzy key and
    starting as it does — is in the language's short list, which holds only words of the whole list."""
    from rapidfuzz import fuzz, process

    from hsmap.matching import _FUZZY_CUTOFF_LONG, _FUZZY_SAME_START, _real_words, lexicon_for
    from hsmap.vocabulary import general_words

    lexicon = lexicon_for(kb)
    for lang in ("es", "ru"):
        whole = sorted(general_words(lang, 6))
        keys = lexicon.fuzzy_keys
        scores = process.cdist(whole, keys, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF_LONG, workers=-1)
        met = {
            whole[row]
            for row, column in zip(*scores.nonzero(), strict=True)
            if whole[row][:_FUZZY_SAME_START] == keys[column][:_FUZZY_SAME_START]
        }
        assert met and met <= _real_words(lang, lexicon) <= set(whole)


def _generator():
    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    return generate


def test_the_compiled_code_decisions_are_the_decisions_made_as_codes_come(kb):
    """A classifier of a compiled knowledge base starts with a decision for every subheading; one of a knowledge
    base that is not compiled makes them as codes come. Both tag 3,000 varied generated lines alike."""
    from hsmap.classify import Classifier, classify

    lines = _generator().make_frame(3_000)
    uncompiled = dataclasses.replace(kb, cache_key="")
    compiled, on_demand = Classifier(kb, 2022), Classifier(uncompiled, 2022)
    assert len(compiled._code_rows) > 5_000 and not on_demand._code_rows
    expected = classify(lines, kb=uncompiled, classifier=on_demand)
    pd.testing.assert_frame_equal(classify(lines, kb=kb, classifier=compiled), expected)
    assert expected["att_category"].ne("").sum() > 100


def test_a_process_with_a_cold_cache_and_one_with_a_warm_cache_write_the_same_file(tmp_path):
    """As users run it: the first ``hsmap classify`` builds every compiled table, the second loads them; both
    classify 3,000 varied generated lines (brands, typos, nine languages, arms lines) row for row alike."""
    source = tmp_path / "declarations.csv"
    _generator().generate(3_000, source)
    environment = {**os.environ, "HSMAP_CACHE_DIR": str(tmp_path / "cache")}
    outputs = []
    for run in ("cold", "warm"):
        target = tmp_path / f"{run}.csv"
        command = [sys.executable, "-m", "hsmap", "classify", str(source), "-o", str(target)]
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=environment, timeout=600)
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    classified = pd.read_csv(tmp_path / "warm.csv", dtype=str, keep_default_na=False)
    assert len(classified) == 3_000 and (classified["att_category"] != "").sum() > 100
    assert classified["reason"].str.contains("% alike").any()  # typo matching ran, with the word lists
    assert {"knowledge", "lexicon", "partner-names", "real-words-en"} <= {
        path.name.rsplit("-", 1)[0] for path in (tmp_path / "cache").glob("*.pickle")
    }
