"""Page flags that come to share a bit: who else reads or writes that bit?

When a patch declares one page flag as another (`PG_anon_exclusive = PG_slab,` in
enum pageflags, or a `#define`), every test of the other name now also answers for
the new meaning. A reviewer lists the readers and writers of the other name and asks
of each whether it can meet a page of the new meaning. So does this module:

  - the new flag's meaning comes from its accessors in the patch: their VM_BUG_ON
    conditions say which pages carry it (`!PageAnon(page)` -> anonymous pages);
  - the other name's accessors follow the kernel's page-flag macros
    (`__PAGEFLAG(Slab, slab, ...)` -> PageSlab, __SetPageSlab, folio_test_slab, ...);
  - every use in the tree is placed in its function and judged:
      adapted     the patch changes that function (it handles the alias);
      own pages   the file also sets the flag: it tests pages it marked itself;
      guarded     a test of the new meaning excludes such pages on the way there;
      can meet    anything else: a pfn walker, /proc and dump code, a table of
                  flag names... a page of the new meaning may reach it.
"""
from __future__ import annotations

import os
import re
from itertools import product
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from spec import expr as E
from review.extract import cparse
from review.extract.paths import Walker
from review.extract.simplify import mk_and
from review.extract.vocab import CALLS
from review.model import FileDiff

_ALIAS = re.compile(r"^\s*(?:#\s*define\s+)?(PG_\w+)\s*[=\s]\s*(PG_\w+)\s*,?\s*(?:/\*.*)?$")
_MACRO = re.compile(r"\b[A-Z_]*PAGEFLAG[A-Z_]*\(\s*(\w+)\s*,\s*(\w+)\s*[,)]")
_ASSERT = re.compile(r"VM_BUG_ON\w*\(\s*(!\s*)?(\w+)\(\w+\)")
MAX_USES = 400   # per flag: a flag used more widely is listed up to this many
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


@dataclass
class FlagUse:
    file: str
    line: int
    function: str    # "" at file level (a macro, a table of names)
    text: str
    access: str      # "reads" | "writes"
    verdict: str     # "adapted" | "own pages" | "guarded" | "can meet"
    why: str


@dataclass
class FlagAlias:
    new: str             # the flag the patch declares, PG_anon_exclusive
    old: str             # the flag whose bit it shares, PG_slab
    file: str
    line: int
    meaning: str         # which pages carry the new flag, as its accessors assert
    searched: str        # where the uses were looked for
    uses: list[FlagUse] = field(default_factory=list)

    def of(self, verdict: str) -> list[FlagUse]:
        return [u for u in self.uses if u.verdict == verdict]

    def summary(self) -> str:
        counts = ", ".join(f"{len(self.of(v))} {v}" for v in ("can meet", "adapted", "own pages", "guarded")
                           if self.of(v))
        return (f"{self.new} shares {self.old}'s bit ({self.file}:{self.line}): {len(self.uses)} uses of "
                f"{self.old} in {self.searched}" + (f": {counts}" if counts else ""))


def declared_aliases(files: list[FileDiff]) -> list[tuple[str, str, str, int]]:
    """(new flag, old flag, file, line) for each alias the patch adds (a line that
    declares one PG_ name as another, not already there before the patch)."""
    out = []
    for fd in files:
        removed = {m.groups() for h in fd.hunks for ln in h.lines if ln.kind == "removed"
                   for m in [_ALIAS.match(ln.text)] if m}
        for h in fd.hunks:
            for ln in h.lines:
                m = _ALIAS.match(ln.text) if ln.kind == "added" else None
                if m and m.groups() not in removed and m.group(1) != m.group(2):
                    out.append((m.group(1), m.group(2), fd.path, ln.new_lineno or 0))
    return out


def accessors(flag: str, macro_sources: list[str]) -> tuple[set[str], set[str]]:
    """(readers, writers) of PG_<flag> by the page-flag macros' naming."""
    lname = flag[3:]
    unames = {u for text in macro_sources for u, l in _MACRO.findall(text) if l == lname}
    readers = {f"folio_test_{lname}", flag}
    writers = {f"{p}folio_{op}_{lname}" for p in ("", "__") for op in ("set", "clear")}
    for u in unames:
        readers |= {f"Page{u}", f"TestSetPage{u}", f"TestClearPage{u}"}
        writers |= {f"{p}{op}Page{u}" for p in ("", "__") for op in ("Set", "Clear")}
    return readers, writers


def meaning(new: str, post_texts: list[str]) -> tuple[str, str | None]:
    """(words, vocabulary call) for the pages the new flag is for, from the
    assertions in its accessors: `VM_BUG_ON_PGFLAGS(!PageAnon(page), page)` says
    only PageAnon() pages carry it."""
    for text in post_texts:
        for fn in cparse.functions(text):
            if new in fn.text:
                m = _ASSERT.search(fn.text)
                if m and m.group(1) and m.group(2) in CALLS:
                    return f"pages for which {m.group(2)}() holds", m.group(2)
    return f"pages that carry {new}", None


class Tree:
    """Where uses are looked for: a repository (git grep), a directory (grep -r),
    or only the patch's own post-images."""

    def __init__(self, root: str | os.PathLike | None, repo: bool = False,
                 overrides: dict[str, str] | None = None):
        self.root = Path(root) if root else None
        self.repo = repo
        self.overrides = overrides or {}

    @property
    def where(self) -> str:
        if self.root is None:
            return "the patch's own files (give --tree or --repo for the whole tree)"
        return "the repository" if self.repo else "the tree"

    def grep(self, names: set[str]) -> list[tuple[str, int]]:
        """(path, line) of every line that names one of `names` as a word."""
        pattern = r"\b(" + "|".join(sorted(map(re.escape, names))) + r")\b"
        hits = {(p, n) for p, text in self.overrides.items()
                for n, line in enumerate(text.split("\n"), 1) if re.search(pattern, line)}
        if self.root is not None:
            hits |= {h for h in self._grep(pattern) if h[0] not in self.overrides}
        return sorted(hits)

    def _grep(self, pattern: str) -> set[tuple[str, int]]:
        if self.repo:
            cmd = ["git", "-C", str(self.root), "grep", "-n", "-I", "-E", pattern, "--", "*.c", "*.h"]
        elif shutil.which("grep"):
            cmd = ["grep", "-rnIE", "--include=*.c", "--include=*.h", pattern, "."]
        else:
            return self._walk(pattern)
        run = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, errors="replace")
        out = set()
        for row in run.stdout.splitlines():
            path, _, rest = row.partition(":")
            number, _, _ = rest.partition(":")
            if number.isdigit():
                out.add((path.removeprefix("./"), int(number)))
        return out

    def _walk(self, pattern: str) -> set[tuple[str, int]]:
        rx, out = re.compile(pattern), set()
        for path in self.root.rglob("*.[ch]"):
            for n, line in enumerate(path.read_text("utf-8", "replace").split("\n"), 1):
                if rx.search(line):
                    out.add((path.relative_to(self.root).as_posix(), n))
        return out

    def read(self, path: str, original: bool = False) -> str:
        """The file as the series leaves it, or as the tree has it (`original`)."""
        if path in self.overrides and not original:
            return self.overrides[path]
        try:
            return (self.root / path).read_text("utf-8", "replace") if self.root else ""
        except OSError:
            return ""


def audit(files: list[FileDiff], tree: Tree, touched: set[tuple[str, str]],
          post_texts: dict[str, str]) -> list[FlagAlias]:
    """Every alias the patch declares, with every use of the other flag judged.
    `touched` is the (file, function) pairs the patch changes; `post_texts` the
    patch's post-image texts (whole files or hunks) by path."""
    out = []
    for new, old, file, line in declared_aliases(files):
        # the macros that name the accessors, before the patch too (it may write
        # them out by hand, as a patch changing what the flag means often does)
        texts = list(post_texts.values()) + [tree.read("include/linux/page-flags.h"),
                                             tree.read("include/linux/page-flags.h", original=True)]
        readers, writers = accessors(old, texts)
        words, call = meaning(new, list(post_texts.values()))
        alias = FlagAlias(new, old, file, line, words, tree.where)
        parsed: dict[str, list[cparse.CFunction]] = {}
        for path, number in tree.grep(readers | writers)[:MAX_USES]:
            text = tree.read(path)
            if not text:
                continue
            use = _judge(path, number, text, parsed, readers, writers, touched, call, old[3:])
            if use is not None:
                alias.uses.append(use)
        out.append(alias)
    return out


def _owner(path: str, fns: list[cparse.CFunction], readers: set[str], writers: set[str], lname: str) -> bool:
    """Code of the flag's owner: a file named after the flag (mm/slab.h and
    mm/slab_common.c for PG_slab), or one with a function that sets the flag without
    reading it (marks pages it owns; a function that reads and then sets it copies
    the flag from page to page, as migration does)."""
    if Path(path).name.startswith(lname):
        return True
    setter = re.compile(r"\b(" + "|".join(re.escape(w) for w in writers if "Set" in w or "_set_" in w) + r")\s*\(")
    reader = re.compile(r"\b(" + "|".join(map(re.escape, readers)) + r")\b")
    for fn in fns:
        code = _COMMENTS.sub(" ", fn.text)
        if setter.search(code) and not reader.search(code):
            return True
    return False


def _judge(path, number, text, parsed, readers, writers, touched, call, lname) -> FlagUse | None:
    lines = text.split("\n")
    src = lines[number - 1].strip() if 0 < number <= len(lines) else ""
    if _MACRO.search(src) or _ALIAS.match(src) or re.match(r"^PG_\w+\s*,?\s*(/\*.*)?$", src):
        return None  # the flags' own declarations
    if src.startswith(("*", "/*", "//")):
        return None  # a comment
    names = set(re.findall(r"\b\w+\b", src))
    access = "writes" if names & writers and not names & readers else "reads"
    if path not in parsed:
        parsed[path] = cparse.functions(text)
    fn = next((f for f in parsed[path] if f.start_line <= number <= f.end_line), None)
    name = fn.name if fn else ""
    if name and (names & (readers | writers)) >= {name}:
        return None  # the accessor's own definition
    if (path, name) in touched:
        return FlagUse(path, number, name, src, access, "adapted", "the patch changes this function")
    if _owner(path, parsed[path], readers, writers, lname):
        return FlagUse(path, number, name, src, access, "own pages",
                       "the flag's own code (it sets the flag, or is named after it): its pages are its own")
    if call and re.search(rf"\b{call}\([^;]*?\)\s*\|\|[^;]*\b({'|'.join(map(re.escape, names & readers))})\b", src):
        return FlagUse(path, number, name, src, access, "guarded",
                       f"{call}() is tested first in the same condition")
    if fn is not None and call and _excluded_before(fn, number, call):
        return FlagUse(path, number, name, src, access, "guarded",
                       f"a {call}() test excludes such pages on the way here")
    where = f"{name}()" if name else "file level (a table or a macro)"
    return FlagUse(path, number, name, src, access, "can meet", f"nothing keeps a page of the new meaning from {where}")


def _excluded_before(fn: cparse.CFunction, line: int, call: str) -> bool:
    """Does every path to the statement holding `line` pass a test that the page is
    not one of the new meaning (`if (PageAnon(page)) return ...;` before it)?"""
    walk = Walker(fn, watch_lines=True).run()
    starts = [n for n in walk.at_lines if n <= line]
    if not starts:
        return False
    reaching = walk.at_lines[max(starts)]
    return _never(mk_and(reaching, CALLS[call].expr))


def _never(expr: E.Expr) -> bool:
    """True when `expr` is false for every value of its atoms (small: it reads few)."""
    names = sorted(E.atoms(expr) | E.free_atoms(expr))
    if len(names) > 12:
        return False
    for values in product((False, True), repeat=len(names)):
        ctx = type("Ctx", (), dict(zip(names, values)))()
        free = dict(zip(names, values))
        if E.evaluate(expr, ctx, free):
            return False
    return True
