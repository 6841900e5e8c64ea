"""What is compiled from the knowledge base and from the libraries' data — the lexicon, the decisions for every
subheading, the HS 2022 list and wording, the general words the typo test needs — is served from the cache folder
until an input changes, rebuilt when damaged, built in memory when the folder cannot be written, and classifies
exactly as when it is built afresh."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from hsmap import knowledge
from hsmap.classify.matching import Lexicon, lexicon_for
from hsmap.knowledge import load_knowledge

ROOT = Path(__file__).parent.parent


@pytest.fixture
def fresh_lexicon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], Lexicon]:
    """The compiled lexicon of ``mappings/`` at a root as a new process would get it — nothing in memory, only
    what is in the cache folder ``tmp_path / "cache"`` — while the other tests keep their memory."""
    monkeypatch.setenv("HSMAP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(knowledge, "_compiled", functools.cache(knowledge._compiled.__wrapped__))

    def lexicon(root: Path) -> Lexicon:
        knowledge._compiled.cache_clear()
        return lexicon_for(load_knowledge(root))

    return lexicon


def test_a_second_process_loads_the_compiled_lexicon_without_compiling_it(
    fresh_lexicon, mappings_copy, tmp_path, monkeypatch
):
    from hsmap.classify import matching

    built = fresh_lexicon(mappings_copy)
    assert len(list((tmp_path / "cache").glob("lexicon-*.pickle"))) == 1

    def no_rebuild(kb):
        raise AssertionError("the lexicon was compiled again")

    monkeypatch.setattr(matching, "build_lexicon", no_rebuild)
    loaded = fresh_lexicon(mappings_copy)
    assert loaded is not built and loaded == built
    assert loaded.terms["leopard 2"] == built.terms["leopard 2"]


def test_an_edited_lexicon_file_is_seen_by_the_compiled_lexicon_and_the_classifier(
    fresh_lexicon, mappings_copy, tmp_path
):
    from hsmap.classify import Classifier, classify

    lines = pd.DataFrame({"hs_code": [""], "description": ["TRACKED VEHICLE ZORVAK-7, 2 UNITS"]})
    before = fresh_lexicon(mappings_copy)
    path = mappings_copy / "lexicon" / "designations.csv"
    with path.open("a", encoding="utf-8") as file:
        file.write('Zorvak-7,I,any,designation,1.0,"main battle tank (a designation added by a reviewer)",\n')
    after = fresh_lexicon(mappings_copy)
    assert "zorvak 7" not in before.terms and [hit.term for hit in after.terms["zorvak 7"]] == ["Zorvak-7"]
    kb = load_knowledge(mappings_copy)
    assert classify(lines, kb=kb, classifier=Classifier(kb, 2022))["att_category"].tolist() == ["I"]
    assert len(list((tmp_path / "cache").glob("lexicon-*.pickle"))) == 2


def test_damaged_compiled_files_are_rebuilt_and_give_the_same_answers(fresh_lexicon, mappings_copy, tmp_path):
    from hsmap.classify.matching import _real_words

    built = fresh_lexicon(mappings_copy)
    words = _real_words("en", built)
    pickles = list((tmp_path / "cache").glob("*.pickle"))
    for pickle in pickles:
        pickle.write_bytes(pickle.read_bytes()[: pickle.stat().st_size // 2])  # a write cut short
    again = fresh_lexicon(mappings_copy)
    assert again == built and _real_words("en", again) == words and "airliner" in words
    assert all(pickle.stat().st_size > 1_000 for pickle in pickles)


def test_without_a_writable_cache_folder_everything_is_built_in_memory(
    fresh_lexicon, tmp_path, mappings_copy, monkeypatch
):
    from hsmap.classify import Classifier
    from hsmap.classify.matching import _real_words

    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("HSMAP_CACHE_DIR", str(blocker / "cache"))
    lexicon = fresh_lexicon(mappings_copy)
    assert lexicon.terms["leopard 2"] and "airliner" in _real_words("en", lexicon)
    assert len(Classifier(load_knowledge(mappings_copy), 2022)._code_rows) > 5_000
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_a_general_word_list_read_in_batches_holds_every_word_of_the_file():
    """The keys of pyspellchecker's JSON word counts, read one by one, are the keys ``json`` reads, normalised."""
    import gzip
    import json
    from importlib import resources

    from hsmap.classify.tokens import normalize_text
    from hsmap.classify.vocabulary import general_word_batches

    for lang in ("es", "ar"):  # Latin and Arabic letters, each list more than one batch
        path = resources.files("spellchecker") / "resources" / f"{lang}.json.gz"
        with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
            keys = [word for word in json.load(text) if len(word) >= 6]
        expected = {word for word in normalize_text(keys) if len(word) >= 6 and " " not in word}
        batches = list(general_word_batches(lang, 6))
        assert len(batches) > 1 and set().union(*batches) == expected


def test_the_short_lists_of_real_words_answer_as_the_whole_word_lists(kb):
    """Every word of a general list that a typo test can meet — at least the typo cutoff alike a fuzzy key and
    starting as it does — is in the language's short list, which holds only words of the whole list."""
    from rapidfuzz import fuzz, process

    from hsmap.classify.matching import _FUZZY_CUTOFF_LONG, _FUZZY_SAME_START, _real_words, lexicon_for
    from hsmap.classify.vocabulary import general_word_batches

    lexicon = lexicon_for(kb)
    for lang in ("es", "ru"):
        whole = sorted(set().union(*general_word_batches(lang, 6)))
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
    assert {"knowledge", "lexicon", "code-decisions-2022", "hs2022", "tariff-words", "real-words-en"} <= {
        path.name.rsplit("-", 1)[0] for path in (tmp_path / "cache").glob("*.pickle")
    }
