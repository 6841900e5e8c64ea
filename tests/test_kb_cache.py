"""The compiled knowledge base: built and validated once, served from the cache folder until a mapping file
changes, and never a reason to fail."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from hsmap import knowledge
from hsmap.errors import InputError
from hsmap.knowledge import load_knowledge


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
