"""Hostile input: extraction yields rules or clear warnings, never execution, hangs or
tracebacks. Python-looking identifiers are names; size limits end in warnings."""
from __future__ import annotations

import builtins

import pytest
from hypothesis import given, strategies as st

from spec import expr as E
from review.extract import cparse
from review.extract.bindings import binding
from review.extract.rules import extract_function, extract_patch
from review.inputs.load import load
from review.model import DiffLine, FileDiff, Hunk, Patch

TOKENS = [
    "if", "(", ")", "{", "}", ";", "return", "goto", "reuse", "copy", ":", "!", "&&", "||", "&", "|",
    "PageAnon(page)", "page_count(page)", "==", "!=", ">", "1", "0", "-EBUSY", "true", "false",
    "__import__('os').system('true')", "eval(flags)", "exec", "VM_BUG_ON(", "WARN_ON_ONCE(", "else",
    "while", "for", "switch", "case", "default", "break", "\n", "flags & FOLL_PIN", "FOLL_WRITE",
    "copy_present_page(x)", "x =", "x", "#if", "#endif", '"', "'", "/*", "*/", "\\", "likely(",
    "static inline", "int", "bool", ",", "?", "*", "->", "gup_must_unshare(", "page_try_dup_anon_rmap(",
]


@pytest.fixture
def no_python_execution(tmp_path):
    """Fail loudly if extraction reaches eval or exec. Patched around the whole test
    body only after every module it needs is imported (the import system uses exec)."""
    import review.report.rules  # noqa: F401  (everything imported before patching)
    saved = builtins.eval, builtins.exec

    def forbidden(*a, **k):
        raise AssertionError("extraction called eval/exec")
    builtins.eval = builtins.exec = forbidden
    try:
        yield
    finally:
        builtins.eval, builtins.exec = saved


def _extract(src: str, name: str = "gup_must_unshare"):
    fns = cparse.functions(src)
    out = []
    for f in fns:
        b = binding(f.name) or binding(name)
        out.append(extract_function(f, "x.c", "post", "tree", b, {g.name: g for g in fns}.get))
    return out


@given(st.lists(st.sampled_from(TOKENS), max_size=120))
def test_any_token_soup_is_read_as_data(tokens):
    body = " ".join(tokens)
    src = f"static inline bool gup_must_unshare(unsigned int flags, struct page *page)\n{{\n{body}\n}}\n"
    real_eval = builtins.eval
    try:
        builtins.eval = None  # any call would raise TypeError and fail the property
        for fr in _extract(src):
            for d in fr.decisions:
                for c in d.cases:
                    assert c.outcome in ("pin", "unshare")
                    E.to_json(c.guard)
    finally:
        builtins.eval = real_eval


def test_python_identifiers_are_free_atoms(no_python_execution, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = "pwned"
    src = f"""
static inline bool gup_must_unshare(unsigned int flags, struct page *page)
{{
	if (__import__("os").system("touch {marker}") || eval(flags) || exec)
		return true;
	return false;
}}
"""
    (fr,) = _extract(src)
    (d,) = fr.decisions
    assert [c.outcome for c in d.cases] == ["unshare", "pin"]
    assert E.free_atoms(d.cases[0].guard) == {f'__import__("os").system("touch {marker}")', "eval(flags)", "exec"}
    assert [n for n, _, _ in fr.unmodelled] == [f'__import__("os").system("touch {marker}")', "eval(flags)", "exec"]
    assert not (tmp_path / marker).exists()


def test_deeply_nested_expression_gives_a_warning(no_python_execution):
    src = ("static inline bool gup_must_unshare(unsigned int flags, struct page *page)\n{\n"
           "\tif (" + "(" * 3000 + "PageAnon(page)" + ")" * 3000 + ")\n\t\treturn true;\n\treturn false;\n}\n")
    (fr,) = _extract(src)
    assert any("nested deeper" in w for w in fr.warnings)
    assert {c.outcome for c in fr.decisions[0].cases} == {"unshare", "pin"}


def test_deeply_nested_blocks_give_a_warning(no_python_execution):
    n = 2000
    src = ("static inline bool gup_must_unshare(unsigned int flags, struct page *page)\n{\n"
           + "if (PageAnon(page)) {\n" * n + "return true;\n" + "}\n" * n + "return false;\n}\n")
    (fr,) = _extract(src)
    assert any("nested deeper" in w for w in fr.warnings)


def test_ten_thousand_line_function_is_read_partially_with_a_warning(no_python_execution):
    body = "".join(f"\tif (PageAnon(page) && frob{i}(page))\n\t\treturn false;\n" for i in range(5000))
    src = f"static inline bool gup_must_unshare(unsigned int flags, struct page *page)\n{{\n{body}\treturn true;\n}}\n"
    assert src.count("\n") > 10000
    (fr,) = _extract(src)
    assert not fr.complete
    assert any("not read (partial)" in w for w in fr.warnings)
    assert fr.decisions and len(fr.decisions[0].cases) <= 200


def test_many_local_variables_are_capped(no_python_execution):
    body = "".join(f"\tint v{i} = v{i - 1} + 1;\n" for i in range(1, 3000))
    src = f"static inline bool gup_must_unshare(unsigned int flags, struct page *page)\n{{\n{body}\treturn v2999;\n}}\n"
    (fr,) = _extract(src)
    assert any("local variables" in w for w in fr.warnings) or any("deeper" in w for w in fr.warnings)


@pytest.fixture
def hostile_patch(fixtures_dir):
    (patch,) = load(str(next((fixtures_dir / "patches").glob("0006*")))).patches
    return patch


def test_unbalanced_braces_patch(hostile_patch, no_python_execution, fixtures_dir):
    for tree in (str(fixtures_dir / "ctree"), None):
        pr = extract_patch(hostile_patch, tree=tree)
        assert ("gup_must_unshare", "include/linux/mm.h") in {(fn, f) for fn, f, *_ in pr.partial + pr.windows}
        # a function not read whole: its rules say what they could not see
        frees = set().union(*(E.free_atoms(c.guard) for d in pr.post.decisions + tuple(pr.partial_decisions)
                              for c in d.cases))
        assert '__import__("os").system("touch /tmp/mmreview-pwned")' in frees


@given(st.text(max_size=400))
def test_arbitrary_text_as_a_hunk(text):
    """Any text as the added lines of a hunk against the fixture header."""
    lines = text.split("\n")
    dl = [DiffLine("context", "static inline bool gup_must_unshare(unsigned int flags, struct page *page)", 31, 31, 0),
          DiffLine("context", "{", 32, 32, 1)]
    dl += [DiffLine("added", t, None, 33 + i, 2 + i) for i, t in enumerate(lines)]
    h = Hunk(31, 2, 31, 2 + len(lines), "", dl)
    fd = FileDiff("include/linux/mm.h", "include/linux/mm.h", hunks=[h])
    pr = extract_patch(Patch("t", "a", "a@example.org", "", files=[fd]))
    assert isinstance(pr.warnings, list)
