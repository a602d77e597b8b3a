"""Definitions by name, found lazily, at a cost that does not grow with the tree.

Inlining a callee needs its definition; a kernel holds about 80,000 files. So:

  - a name index, built once per run and only over the places where the definitions
    mm code calls live (SEARCH, in the order a name is looked for): for each file, the
    names followed by `(` on lines that start in column 0 (where kernel style starts
    every definition: `static inline bool folio_test_anon(...)`, or the name itself
    when the return type sits on the line above), and the function-like macros it
    defines. From a directory (`--tree`) the files are read once; from a repository
    one `git grep` at the base revision lists the same lines;
  - a lookup parses only the files the index names for it, first one first, and
    stops at the first that really defines it;
  - every parse is kept by file and content (`Parses`), shared by the patches of a
    run: a patch's pre-image is usually the previous patch's post-image, parsed once.

The series' own files override the base's (`overrides`, path -> text): a patch's
helpers are read as the earlier patches, and for the post-image this patch, left them.
"""
from __future__ import annotations

import fnmatch
import functools
import hashlib
import re
from pathlib import Path
from typing import Callable

from review.extract import cparse
from review.extract.cparse import CFunction

# Where the definitions that mm code inlines live, in the order they are looked for.
SEARCH = ("include/linux/*.h", "mm/*.h", "mm/*.c", "include/linux/sched/*.h", "include/asm-generic/*.h")
MAX_FILE_BYTES = 8 * 1024 * 1024

_COLUMN0 = re.compile(r"^[A-Za-z_][^\n]*", re.M)
_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_MACRO = re.compile(r"#\s*define\s+([A-Za-z_]\w*)\(")
# The same lines for `git grep -E`: column-0 lines with a `(`, and function-like macros.
GREP_PATTERNS = [r"^[A-Za-z_].*\(", r"#[[:space:]]*define[[:space:]]+[A-Za-z_][A-Za-z0-9_]*\("]


@functools.lru_cache(maxsize=65536)
def search_rank(path: str) -> int | None:
    """The position of `path`'s place in SEARCH, None when outside it (a glob's `*`
    stays within one directory)."""
    for i, pattern in enumerate(SEARCH):
        if path.count("/") == pattern.count("/") and fnmatch.fnmatchcase(path, pattern):
            return i
    return None


def names_in(text: str) -> tuple[set[str], set[str]]:
    """(names that may be defined in `text`, function-like macros it defines)."""
    defined: set[str] = set()
    for line in _COLUMN0.findall(text):
        if "(" in line:
            defined.update(_CALLED.findall(line))
    return defined, set(_MACRO.findall(text))


class Parses:
    """Each file text parsed once per run: functions (and the first definition of each
    name) and one-call macros, kept by path and content."""

    def __init__(self):
        self._functions: dict[tuple[str, str], tuple[list[CFunction], dict[str, CFunction]]] = {}
        self._aliases: dict[tuple[str, str], dict[str, str]] = {}
        self._names: dict[str, tuple[set[str], set[str]]] = {}
        self._trees: dict[tuple[str, str], object] = {}
        self._digests: dict[int, tuple[str, str]] = {}   # id(text) -> (text, digest)

    def _key(self, path: str, text: str) -> tuple[str, str]:
        known = self._digests.get(id(text))
        if known is None or known[0] is not text:
            # the text is kept with its digest, so that its id is not reused
            known = self._digests[id(text)] = (text, hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest())
        return path, known[1]

    def _tree(self, key: tuple[str, str], text: str):
        """One tree-sitter parse of a text serves its functions and its macros; kept
        until both are read."""
        tree = self._trees.get(key)
        if tree is None:
            tree = self._trees[key] = cparse.parse(text)
        return tree

    def _read(self, key: tuple[str, str]) -> None:
        if key in self._functions and key in self._aliases:
            self._trees.pop(key, None)

    def functions(self, path: str, text: str) -> list[CFunction]:
        return self._parsed(path, text)[0]

    def definition(self, path: str, text: str, name: str) -> CFunction | None:
        return self._parsed(path, text)[1].get(name)

    def _parsed(self, path: str, text: str):
        key = self._key(path, text)
        got = self._functions.get(key)
        if got is None:
            fns = cparse.functions(text, tree=self._tree(key, text))
            first: dict[str, CFunction] = {}
            for f in fns:
                f.file = path
                first.setdefault(f.name, f)
            got = self._functions[key] = (fns, first)
            self._read(key)
        return got

    def aliases(self, path: str, text: str) -> dict[str, str]:
        key = self._key(path, text)
        got = self._aliases.get(key)
        if got is None:
            got = self._aliases[key] = cparse.macro_aliases(text, self._tree(key, text))
            self._read(key)
        return got

    def names(self, text: str) -> tuple[set[str], set[str]]:
        key = self._key("", text)[1]
        got = self._names.get(key)
        if got is None:
            got = self._names[key] = names_in(text)
        return got


class NameIndex:
    """name -> the files of SEARCH that may define it, in search order. `lines` gives,
    once, the (path, line) pairs to index; `read` a file's text when one is parsed."""

    def __init__(self, lines: Callable[[], list[tuple[str, str]]], read: Callable[[str], str | None]):
        self._lines = lines
        self.read = read
        self._defined: dict[str, list[str]] | None = None
        self._macros: dict[str, list[str]] = {}

    def _build(self) -> None:
        defined: dict[str, set[str]] = {}
        macros: dict[str, set[str]] = {}
        for path, line in self._lines():
            if search_rank(path) is None:
                continue
            names, defines = names_in(line)
            for n in names:
                defined.setdefault(n, set()).add(path)
            for n in defines:
                macros.setdefault(n, set()).add(path)
        order = lambda paths: sorted(paths, key=lambda p: (search_rank(p), p))  # noqa: E731
        self._defined = {n: order(ps) for n, ps in defined.items()}
        self._macros = {n: order(ps) for n, ps in macros.items()}

    def defining(self, name: str) -> list[str]:
        if self._defined is None:
            self._build()
        return self._defined.get(name, [])

    def defining_macro(self, name: str) -> list[str]:
        if self._defined is None:
            self._build()
        return self._macros.get(name, [])


def directory_lines(root: Path) -> list[tuple[str, str]]:
    """The lines to index of the SEARCH files of a directory tree: read once."""
    out: list[tuple[str, str]] = []
    for pattern in SEARCH:
        for p in sorted(root.glob(pattern)):
            text = read_file(root, p.relative_to(root).as_posix())
            if text is None:
                continue
            rel = p.relative_to(root).as_posix()
            for line in _COLUMN0.findall(text):
                if "(" in line:
                    out.append((rel, line))
            out += [(rel, f"#define {m}(") for m in set(_MACRO.findall(text))]
    return out


def read_file(root: Path, rel: str) -> str | None:
    """A file of the tree under `root`, or None (outside it, not a file, too large)."""
    p = root / rel
    try:
        if not p.resolve().is_relative_to(root.resolve()) or not p.is_file():
            return None
        if p.stat().st_size > MAX_FILE_BYTES:
            return None
        return p.read_text("utf-8", "surrogateescape")
    except OSError:
        return None


class Definitions:
    """Definitions and one-call macros by name, from a NameIndex (or none), with the
    series' files overriding the base's."""

    def __init__(self, index: NameIndex | None, parses: Parses):
        self.index = index
        self.parses = parses
        self._texts: dict[str, str | None] = {}

    def text(self, path: str, overrides: dict[str, str] | None) -> str | None:
        if overrides and path in overrides:
            return overrides[path]
        if path not in self._texts:
            self._texts[path] = self.index.read(path)
        return self._texts[path]

    def _candidates(self, name: str, overrides: dict[str, str] | None, macro: bool) -> list[str]:
        """Files that may define `name`, in search order: the index's, and the
        overriding files (within SEARCH) whose own text may define it."""
        base = self.index.defining_macro(name) if macro else self.index.defining(name)
        if not overrides:
            return base
        extra = [p for p, t in overrides.items()
                 if p not in base and search_rank(p) is not None and name in self.parses.names(t)[macro]]
        if not extra:
            return base
        return sorted(base + extra, key=lambda p: (search_rank(p), p))

    def find(self, name: str, overrides: dict[str, str] | None = None) -> CFunction | None:
        """The first definition of `name` in search order."""
        if self.index is None:
            return None
        for path in self._candidates(name, overrides, False):
            text = self.text(path, overrides)
            if text is not None:
                fn = self.parses.definition(path, text, name)
                if fn is not None:
                    return fn
        return None

    def alias(self, name: str, overrides: dict[str, str] | None = None) -> str | None:
        """The function a one-call function-like macro `name` stands for, if any."""
        if self.index is None:
            return None
        for path in self._candidates(name, overrides, True):
            text = self.text(path, overrides)
            target = self.parses.aliases(path, text).get(name) if text is not None else None
            if target:
                return target
        return None
