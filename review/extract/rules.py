"""Rule extraction: the rules a patch implements, from its C, before and after.

For every C function a patch touches and review/extract/bindings.py binds to a decision point
or a primitive, the pre- and post-image are read (review/extract_images: git images,
a kernel tree, or the hunks alone) and walked (review/extract_paths):
  - assertion rules: VM_BUG_ON*/VM_WARN_ON*/WARN_ON*/BUG_ON conditions (under the path
    condition that reaches them) -> spec.decisions.AssertionRule at the primitive;
  - decision rules: the path conditions leading to each outcome marker ->
    spec.decisions.ExtractedDecision with one GuardedOutcome per path.
Conditions are spec.expr trees over DecisionContext fields (review/extract/vocab.py); unknown
identifiers become Free atoms, listed as unmodelled with their line. Nothing from a
patch is evaluated as Python.

Library interface (used by `mmreview check`, the TUI and `mmreview extract`):

    extract_series(patches, tree=None) -> list[PatchRules]
    extract_patch(patch, tree=None, *, state=None, index=None) -> PatchRules
    PatchRules.overlay(base_ruleset, image="post", free=None) -> RuleSet
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from spec import expr as E
from spec.decisions import AssertionRule, ExtractedDecision, GuardedOutcome, Provenance, RuleSet
from review.extract import cparse
from review.extract.bindings import Binding, binding
from review.extract.cparse import CFunction
from review.extract.images import (
    FileImages, TreeIndex, apply_hunks, changed_lines, fragment, is_c_file, section_function, touched,
)
from review.extract.paths import Walker
from review.model import FileDiff, Hunk, Patch
from review.extract.vocab import CALLS


@dataclass
class FunctionRules:
    """The rules of one function in one image."""
    file: str
    function: str
    image: str                 # "pre" | "post"
    source: str                # "git" | "tree" | "hunks"
    start_line: int
    end_line: int
    complete: bool
    binding: Binding | None
    decisions: list[ExtractedDecision] = field(default_factory=list)
    assertions: list[AssertionRule] = field(default_factory=list)
    unbound_assertions: list[tuple[str, str, int, str]] = field(default_factory=list)  # macro, cond, line, text
    unmodelled: list[tuple[str, int]] = field(default_factory=list)
    inlined: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImageRules:
    decisions: tuple[ExtractedDecision, ...] = ()
    assertions: tuple[AssertionRule, ...] = ()


@dataclass
class PatchRules:
    """What one patch's C says, before (pre) and after (post).

    bound       "file:function -> point/primitive" for every touched bound function
    unbound     "file:function" touched C functions with no binding (listed, not guessed)
    unmodelled  (atom, file, line, image): Free atoms in the extracted rules
    partial     (function, file, line, why): functions not seen whole
    partial_decisions  decisions read from partial functions: reported, not in pre/post
                (an incomplete path condition would be a wrong rule)
    """
    label: str = ""
    title: str = ""
    pre: ImageRules = field(default_factory=ImageRules)
    post: ImageRules = field(default_factory=ImageRules)
    functions: list[FunctionRules] = field(default_factory=list)
    bound: list[str] = field(default_factory=list)
    unbound: list[str] = field(default_factory=list)
    unmodelled: list[tuple[str, str, int, str]] = field(default_factory=list)
    partial: list[tuple[str, str, int, str]] = field(default_factory=list)
    partial_decisions: list[ExtractedDecision] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    patch: Patch | None = None

    @property
    def empty(self) -> bool:
        return not (self.pre.decisions or self.pre.assertions or self.post.decisions or self.post.assertions)

    def image(self, which: str) -> ImageRules:
        if which not in ("pre", "post"):
            raise ValueError(f"image must be 'pre' or 'post', not {which!r}")
        return self.pre if which == "pre" else self.post

    def overlay(self, base: RuleSet, image: str = "post", free: dict[str, bool] | None = None,
                name: str | None = None) -> RuleSet:
        """`base` with this patch's `image` rules: its extracted decisions replace the
        base's at their points, its assertions run at their primitives."""
        rules = self.image(image)
        return base.with_overlay(rules.decisions, rules.assertions, free,
                                 name=name or f"{base.name}+{self.label or 'patch'}:{image}")

    def free_atoms(self) -> list[str]:
        names: set[str] = set()
        for img in (self.pre, self.post):
            for d in img.decisions:
                for c in d.cases:
                    names |= E.free_atoms(c.guard)
            for a in img.assertions:
                names |= E.free_atoms(a.condition)
        return sorted(names)

    def changed_points(self) -> list[str]:
        """Decision points whose extracted rules differ in meaning between pre and post
        (compared by truth table, see `same_decision`)."""
        pre = {d.point: d for d in self.pre.decisions}
        post = {d.point: d for d in self.post.decisions}
        out = []
        for point in sorted(set(pre) | set(post)):
            a, b = pre.get(point), post.get(point)
            if a is None or b is None or not same_decision(a, b):
                out.append(point)
        return out


# ---------------------------------------------------------------- equivalence

def outcome_guard(d: ExtractedDecision, outcome: str) -> E.Expr:
    from review.extract.simplify import mk_or
    return mk_or(*(c.guard for c in d.cases if c.outcome == outcome))


MAX_CONTEXTS = 200_000


def _domains(atoms: set[str], consts: set[int]) -> list[tuple[str, tuple]]:
    from spec.decisions import INT_FIELDS
    ints = sorted({v for c in consts for v in (c - 1, c, c + 1) if v >= 0} | set(range(0, 5)))
    return [(n, tuple(ints) if n in INT_FIELDS else (False, True)) for n in sorted(atoms)]


def _contexts(domains: list[tuple[str, tuple]]):
    from itertools import product
    from spec.decisions import DecisionContext
    names = [n for n, _ in domains]
    for values in product(*(d for _, d in domains)):
        ctx = DecisionContext()
        for n, v in zip(names, values):
            setattr(ctx, n, v)
        yield ctx


def same_decision(a: ExtractedDecision, b: ExtractedDecision, free: dict[str, bool] | None = None) -> bool:
    """Do two extracted decisions pick the same outcome (or both none) in every
    context over the atoms they read? Booleans both ways, counts over 0..4 and around
    every constant the guards compare with, free atoms both ways (compared by name).
    When that space is too large to enumerate (> MAX_CONTEXTS), answers False: "may
    differ", so that callers go on to fuzz rather than trust an unproven equality."""
    if a.point != b.point:
        return False
    if a.default == b.default and [(c.guard, c.outcome) for c in a.cases] == [(c.guard, c.outcome) for c in b.cases]:
        return True  # the same rules, whatever their provenance
    atoms: set[str] = set()
    frees: set[str] = set()
    consts: set[int] = set()
    for d in (a, b):
        for c in d.cases:
            atoms |= E.atoms(c.guard)
            frees |= E.free_atoms(c.guard)
            consts |= {n.value for n in E.walk(c.guard)
                       if type(n) is E.Const and not isinstance(n.value, bool)}
    domains = _domains(atoms, consts)
    size = 2 ** len(frees)
    for _, dom in domains:
        size *= len(dom)
    if size > MAX_CONTEXTS:
        return False
    valuations = [{n: bool(bits >> i & 1) for i, n in enumerate(sorted(frees))} for bits in range(2 ** len(frees))]
    for val in valuations:
        for ctx in _contexts(domains):
            if _pick(a, ctx, val) != _pick(b, ctx, val):
                return False
    return True


def _pick(d: ExtractedDecision, ctx, free) -> str | None:
    for c in d.cases:
        if E.evaluate(c.guard, ctx, free):
            return c.outcome
    return d.default


# ---------------------------------------------------------------- one function

def extract_function(fn: CFunction, file: str, image: str, source: str, bind: Binding | None,
                     helpers=None, inline_ok=None, hunk_of=None) -> FunctionRules:
    """Walk one function once per decision it is bound to (once if none)."""
    fr = FunctionRules(file, fn.name, image, source, fn.start_line, fn.end_line, fn.complete, bind)
    hunk_of = hunk_of or (lambda line: "")
    decisions = bind.decisions if bind else ()
    for i, db in enumerate(decisions or (None,)):
        w = Walker(fn, db, helpers, inline_ok)
        res = w.run()
        if res.truncated:
            fr.complete = False
        fr.inlined |= w.inlined
        fr.warnings += [x for x in res.warnings if x not in fr.warnings]
        used: set[str] = set()
        if db is not None:
            cases = []
            for r in res.reached:
                if r.guard == E.FALSE:
                    continue
                prov = Provenance(file, fn.name, r.line, image, hunk_of(r.line), r.text)
                cases.append(GuardedOutcome(r.guard, r.outcome, prov))
                used |= E.free_atoms(r.guard)
            if cases or db.default:
                fr.decisions.append(ExtractedDecision(db.point, tuple(cases), db.default))
        if i == 0:
            for a in res.assertions:
                if a.condition == E.FALSE:
                    fr.warnings.append(f"{fn.name}: line {a.line}: {a.macro}({a.text}) can never fire in "
                                       f"the model (it reads only things the model fixes)")
                used |= E.free_atoms(a.condition)
                if bind is not None and bind.primitive:
                    prov = Provenance(file, fn.name, a.line, image, hunk_of(a.line), a.text)
                    fr.assertions.append(AssertionRule(bind.primitive, a.condition, a.macro, prov))
                else:
                    fr.unbound_assertions.append((a.macro, str(a.condition), a.line, a.text))
        seen = {n for n, _ in fr.unmodelled}
        for u in res.unmodelled:
            if u.name in used and u.name not in seen:
                fr.unmodelled.append((u.name, u.line))
                seen.add(u.name)
    return fr


# ---------------------------------------------------------------- one patch

def _hunk_lookup(fd: FileDiff, image: str):
    def hunk_of(line: int) -> str:
        for h in fd.hunks:
            start, count = (h.old_start, h.old_count) if image == "pre" else (h.new_start, h.new_count)
            if start <= line < start + max(count, 1):
                return h.header
        return ""
    return hunk_of


def _images(fd: FileDiff, index: TreeIndex, state: dict[str, str]) -> FileImages:
    if fd.pre_image is not None or fd.post_image is not None:
        return FileImages(fd.path, fd, fd.pre_image, fd.post_image, "git")
    if index.root is not None:
        if fd.status == "added" or fd.old_path is None:
            pre = ""
        else:
            pre = state.get(fd.old_path)
            if pre is None:
                pre = index.read(fd.old_path)
        if pre is not None:
            post = apply_hunks(pre, fd.hunks) if fd.new_path is not None else None
            if post is not None or fd.new_path is None:
                return FileImages(fd.path, fd, pre if fd.old_path else None, post, "tree")
            img = FileImages(fd.path, fd, None, None, "hunks")
            img.warnings.append(f"{fd.path}: the hunks do not apply to the tree's file: read from the hunks")
            return img
        img = FileImages(fd.path, fd, None, None, "hunks")
        img.warnings.append(f"{fd.path}: not in the tree: read from the hunks")
        return img
    return FileImages(fd.path, fd, None, None, "hunks")


@dataclass
class _Found:
    fn: CFunction
    file: str
    image: str
    source: str
    fd: FileDiff


def _comment_or_blank(line: str) -> bool:
    t = line.strip()
    return not t or t.startswith(("/*", "*", "//"))


def _hunk_functions(fd: FileDiff, side: str) -> tuple[list[CFunction], list[CFunction]]:
    """(touched functions, complete functions) seen in the hunks of one side."""
    touched_out: list[CFunction] = []
    complete: list[CFunction] = []
    lines = changed_lines(fd, side)
    for h in fd.hunks:
        frag = fragment(h, side)
        defs = cparse.functions(frag.text, frag.line_map)
        complete += [f for f in defs if f.complete]
        touched_out += touched(defs, lines)
        # the part of the hunk before its first definition belongs to the function
        # git names in the @@ line: read it as a partial function
        first_row = min((f.node.start_point[0] + 1 for f in defs), default=None)
        rows = [r for r in frag.line_map if first_row is None or r < first_row]
        head_lines = {frag.line_map[r] for r in rows}
        code = [ln for ln in h.lines if ln.kind != "context" and not _comment_or_blank(ln.text)]
        code_here = {ln.new_lineno if side == "post" else ln.old_lineno for ln in code}
        if not rows or not any(x in head_lines and x in code_here if x > 0 else (-x in head_lines and code)
                               for x in lines):
            continue  # nothing but comments changed before the first definition
        name = section_function(h.section)
        if name is None:
            continue
        part_hunk = Hunk(h.old_start, h.old_count, h.new_start, h.new_count, h.section,
                         [ln for ln in h.lines if ((ln.old_lineno if side == "pre" else ln.new_lineno) in head_lines)
                          or ln.kind == ("added" if side == "pre" else "removed")])
        wrapped = fragment(part_hunk, side, wrap=True)
        for f in cparse.functions(wrapped.text, wrapped.line_map):
            if f.name == "__hunk__":
                f.name = name
                f.complete = False
                touched_out.append(f)
    return touched_out, complete


def _defined_in(text: str | None, name: str) -> bool:
    return bool(text) and re.search(rf"^\w[\w \t\*]*\b{re.escape(name)}\s*\([^;]*$", text, re.M) is not None


def _unparsed_fallback(fd: FileDiff, side: str, img: FileImages, lines: set[int], pr: PatchRules) -> list[_Found]:
    """Changed lines that no parsed function covers, inside a function the image does
    define (tree-sitter lost it: unbalanced braces, macros): read that function from
    the hunks, as partial, and say so."""
    fns = img.functions(side)
    text = img.pre if side == "pre" else img.post
    uncovered = [ln for ln in lines
                 if not any(f.start_line <= abs(ln) <= f.end_line for f in fns)]
    if not uncovered:
        return []
    have = {f.name for f in fns}
    out = []
    for f in _hunk_functions(fd, side)[0]:
        if f.name in have or not _defined_in(text, f.name):
            continue
        pr.warnings.append(f"{fd.path} ({side}): {f.name}: tree-sitter could not read its definition "
                           f"whole (unbalanced braces or macros?): read from the hunks")
        f.complete = False
        out.append(_Found(f, fd.path, side, "hunks", fd))
        have.add(f.name)
    return out


def extract_patch(patch: Patch, tree: str | None = None, *, state: dict[str, str] | None = None,
                  index: TreeIndex | None = None) -> PatchRules:
    """The rules of one patch. `state` (path -> text) carries the files as earlier
    patches of the same series left them; it is updated with this patch's
    post-images (tree mode)."""
    index = index or TreeIndex(tree)
    state = {} if state is None else state
    pr = PatchRules(label=getattr(patch, "label", ""), title=getattr(patch, "title", ""), patch=patch)
    found: list[_Found] = []
    images: dict[str, FileImages] = {}
    helpers_pre: dict[str, CFunction] = {}
    helpers_post: dict[str, CFunction] = {}
    aliases_pre: dict[str, str] = {}   # function-like macros that are one call
    aliases_post: dict[str, str] = {}
    for fd in patch.files:
        if fd.is_binary or not is_c_file(fd.path):
            pr.skipped_files.append(fd.path)
            continue
        try:
            img = _images(fd, index, state)
        except Exception as exc:  # a damaged image must not hide the other files
            pr.warnings.append(f"{fd.path}: could not read its images: {type(exc).__name__}: {exc}")
            continue
        images[fd.path] = img
        pr.warnings += img.warnings
        for side, helpers, aliases in (("pre", helpers_pre, aliases_pre), ("post", helpers_post, aliases_post)):
            whole = img.pre if side == "pre" else img.post
            if whole:
                aliases.update(cparse.macro_aliases(whole))
            else:
                for h in fd.hunks:
                    aliases.update(cparse.macro_aliases(fragment(h, side).text))
            if img.source == "hunks":
                fns, complete = _hunk_functions(fd, side)
                for f in complete:
                    helpers.setdefault(f.name, f)
            else:
                lines = changed_lines(fd, side)
                fns = touched(img.functions(side), lines)
                for f in img.functions(side):
                    helpers.setdefault(f.name, f)
                found += _unparsed_fallback(fd, side, img, lines, pr)
            found += [_Found(f, fd.path, side, img.source, fd) for f in fns]

    # every touched function in both images: a change on one side is a change of both
    names = []
    for f in found:
        if (f.file, f.fn.name) not in names:
            names.append((f.file, f.fn.name))
    changed_names = {n for _, n in names}
    full = list(found)
    for file, name in names:
        img = images[file]
        if img.source == "hunks":
            continue
        for side in ("pre", "post"):
            if not any(x.file == file and x.fn.name == name and x.image == side for x in full):
                fn = next((g for g in img.functions(side) if g.name == name), None)
                if fn is not None:
                    full.append(_Found(fn, file, side, img.source, img.diff))

    overrides_pre = dict(state)
    overrides_post = dict(state)
    for path, img in images.items():
        if img.post is not None:
            overrides_post[path] = img.post

    def helper_lookup(side: str):
        local = helpers_pre if side == "pre" else helpers_post
        aliases = aliases_pre if side == "pre" else aliases_post
        overrides = overrides_pre if side == "pre" else overrides_post

        def find(name: str, hops: int = 0) -> CFunction | None:
            fn = local.get(name) or index.find(name, overrides)
            if fn is None and hops < 3:
                target = aliases.get(name) or index.alias(name, overrides)
                if target and target != name:
                    return find(target, hops + 1)
            return fn
        return find

    def inline_ok(name: str) -> bool:
        """Vocabulary helpers keep their cited meaning unless this patch changes them
        (directly or behind a one-call macro)."""
        if name not in CALLS or name in changed_names:
            return True
        target = aliases_pre.get(name) or aliases_post.get(name)
        return bool(target) and target in changed_names

    per_image: dict[str, list[FunctionRules]] = {"pre": [], "post": []}
    for f in sorted(full, key=lambda x: (x.file, x.fn.start_line, x.image)):
        bind = binding(f.fn.name)
        key = f"{f.file}:{f.fn.name}"
        if bind is None:
            if key not in pr.unbound:
                pr.unbound.append(key)
                if f.fn.name in CALLS:
                    pr.warnings.append(f"{key}: a vocabulary helper ({CALLS[f.fn.name].cite}); this patch "
                                       f"adds or changes it: bound functions of this patch inline its new body, "
                                       f"elsewhere the vocabulary's meaning stands")
            continue
        roles = [d.point for d in bind.decisions] + ([bind.primitive] if bind.primitive else [])
        entry = f"{key} -> {', '.join(roles)}"
        if entry not in pr.bound:
            pr.bound.append(entry)
        try:
            fr = extract_function(f.fn, f.file, f.image, f.source, bind, helper_lookup(f.image), inline_ok,
                                  _hunk_lookup(f.fd, f.image))
        except RecursionError:
            pr.warnings.append(f"{key} ({f.image}): too deeply nested to read: no rules")
            continue
        except Exception as exc:  # one unreadable function must not hide the others
            pr.warnings.append(f"{key} ({f.image}): could not read it ({type(exc).__name__}: {exc}): no rules")
            continue
        pr.functions.append(fr)
        pr.warnings += [f"{f.image}: {w}" for w in fr.warnings]
        if not fr.complete:
            why = "only the hunks show it, and not whole" if f.source == "hunks" else "tree-sitter could not read it whole"
            pr.partial.append((f.fn.name, f.file, f.fn.start_line, f"{f.image}: {why}"))
            pr.partial_decisions += fr.decisions
        else:
            per_image[f.image].append(fr)
        if fr.assertions or fr.complete:
            for name, line in fr.unmodelled:
                pr.unmodelled.append((name, f.file, line, f.image))
    # assertions from partial functions are local to their line and kept
    for fr in pr.functions:
        if not fr.complete:
            per_image[fr.image].append(FunctionRules(fr.file, fr.function, fr.image, fr.source, fr.start_line,
                                                     fr.end_line, False, fr.binding, [], fr.assertions))
    pr.pre = _image_rules(per_image["pre"])
    pr.post = _image_rules(per_image["post"])
    for path, img in images.items():
        if img.source == "tree" and img.post is not None:
            state[img.diff.new_path or path] = img.post
        if img.source == "tree" and img.diff.new_path is None and img.diff.old_path:
            state.pop(img.diff.old_path, None)
    return pr


def _image_rules(frs: list[FunctionRules]) -> ImageRules:
    """One decision per point (the function that inlines the most of the others: the
    caller's rules include its helpers'), every assertion."""
    by_point: dict[str, list[tuple[FunctionRules, ExtractedDecision]]] = {}
    for fr in frs:
        for d in fr.decisions:
            by_point.setdefault(d.point, []).append((fr, d))
    decisions = []
    for point, cands in by_point.items():
        names = {fr.function for fr, _ in cands}
        best = max(cands, key=lambda c: len(c[0].inlined & names))
        decisions.append(best[1])
    assertions = tuple(a for fr in frs for a in fr.assertions)
    return ImageRules(tuple(decisions), assertions)


def extract_series(patches: Iterable[Patch], tree: str | None = None) -> list[PatchRules]:
    """Every patch of a series in order; with a tree, each patch's pre-image is the
    tree as the earlier patches left it."""
    index = TreeIndex(tree)
    state: dict[str, str] = {}
    return [extract_patch(p, tree, state=state, index=index) for p in patches]
