"""Definitions by name through the name index: the same definition a scan of every
file in search order finds, from a directory or a repository, with the series'
files overriding; each file text parsed once per run."""
from __future__ import annotations

from pathlib import Path

import pytest

from review.extract import cparse
from review.extract.definitions import SEARCH, Definitions, Parses, search_rank
from review.extract.rules import extract_series
from review.extract.sources import Base
from review.inputs.load import load
from tests.conftest import FIXTURES
from tests.review.gitrepo import GitRepo


def scan(root: Path, overrides: dict[str, str] | None = None) -> dict[str, tuple[str, int]]:
    """name -> (file, line) of its first definition, every SEARCH file parsed in order."""
    out: dict[str, tuple[str, int]] = {}
    paths = sorted({p.relative_to(root).as_posix() for g in SEARCH for p in root.glob(g)}
                   | set(overrides or ()), key=lambda p: (search_rank(p) if search_rank(p) is not None else 99, p))
    for rel in paths:
        if search_rank(rel) is None:
            continue
        text = (overrides or {}).get(rel)
        if text is None:
            text = (root / rel).read_text("utf-8", "surrogateescape")
        for f in cparse.functions(text):
            out.setdefault(f.name, (rel, f.start_line))
    return out


def found(definitions: Definitions, names, overrides=None) -> dict[str, tuple[str, int]]:
    out = {}
    for n in names:
        fn = definitions.find(n, overrides)
        if fn is not None:
            out[n] = (fn.file, fn.start_line)
    return out


@pytest.mark.parametrize("tree", ["ctree", "ctree-v5.17"])
def test_the_index_finds_what_a_full_scan_finds(tree):
    root = FIXTURES / tree
    want = scan(root)
    with Base(tree=str(root)) as base:
        assert found(base.definitions(None), want) == want
        assert base.definitions(None).find("no_such_function") is None


def test_overrides_replace_files_and_add_new_ones():
    root = FIXTURES / "ctree-v5.17"
    memory = (root / "mm/memory.c").read_text()
    overrides = {"mm/memory.c": memory.replace("copy_present_page(", "copy_present_folio("),
                 "mm/new.c": "int brand_new(void)\n{\n\treturn 0;\n}\n",
                 "fs/proc/page.c": "int outside_the_search(void)\n{\n\treturn 0;\n}\n"}
    want = scan(root, overrides)
    assert "copy_present_folio" in want and "copy_present_page" not in want and "brand_new" in want
    with Base(tree=str(root)) as base:
        names = set(want) | {"copy_present_page", "outside_the_search"}
        assert found(base.definitions(None), names, overrides) == want


def test_a_repository_gives_what_the_directory_gives(tmp_path):
    root = FIXTURES / "ctree-v5.17"
    repo = GitRepo(tmp_path / "linux")
    repo.commit("base", {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()})
    want = scan(root)
    with Base(repo=str(repo.path)) as base:
        assert found(base.definitions(None), want) == want


def test_each_file_text_is_parsed_once_per_run(monkeypatch):
    texts: list[str] = []
    real = cparse.parse
    monkeypatch.setattr(cparse, "parse", lambda source: texts.append(source) or real(source))
    patches = [p for f in sorted((FIXTURES / "patches-v5.17" / "nfc-move").glob("*.patch"))
               for p in load(str(f)).patches]
    extract_series(patches, str(FIXTURES / "ctree-v5.17"))
    whole = [t for t in texts if t.startswith("/*\n * Fixture")]   # whole files, not hunks
    assert whole and len(whole) == len(set(whole))


def test_one_parse_serves_functions_and_macros():
    parses = Parses()
    text = (FIXTURES / "ctree-v5.17" / "mm/memory.c").read_text()
    assert parses.functions("mm/memory.c", text) is parses.functions("mm/memory.c", text)
    assert parses.definition("mm/memory.c", text, "do_wp_page").name == "do_wp_page"
    assert parses.aliases("mm/memory.c", text) == cparse.macro_aliases(text)


def test_the_index_finds_what_a_full_scan_finds_in_a_kernel_tree(kernel_tree):
    want = scan(kernel_tree)
    with Base(tree=str(kernel_tree)) as base:
        assert found(base.definitions(None), want) == want
