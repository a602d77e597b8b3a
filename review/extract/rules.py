"""Rule extraction: the rules a patch implements, from its C, before and after.

For every C function a patch touches and review/extract/bindings.py binds to a decision point
or a primitive, the pre- and post-image are read (review/extract/images.py: git images,
a kernel tree, or the hunks alone) and walked (review/extract/paths.py):
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

from dataclasses import dataclass, field
from itertools import product
from typing import Iterable

from spec import expr as E
from spec.decisions import (
    INT_FIELDS, AssertionRule, DecisionContext, ExtractedDecision, GuardedOutcome, Provenance, RuleSet,
)
from review.extract.bindings import Binding, binding
from review.extract.cparse import CFunction
from review.extract.images import FileImages, TreeIndex, file_images, is_c_file
from review.extract.paths import Walker
from review.extract.simplify import mk_or
from review.extract.vocab import CALLS
from review.model import FileDiff, Patch


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
    return mk_or(*(c.guard for c in d.cases if c.outcome == outcome))


MAX_CONTEXTS = 200_000


def _domains(atoms: set[str], consts: set[int]) -> list[tuple[str, tuple]]:
    ints = sorted({v for c in consts for v in (c - 1, c, c + 1) if v >= 0} | set(range(0, 5)))
    return [(n, tuple(ints) if n in INT_FIELDS else (False, True)) for n in sorted(atoms)]


def _contexts(domains: list[tuple[str, tuple]]):
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


@dataclass
class _Found:
    fn: CFunction
    file: str
    image: str
    source: str
    fd: FileDiff


@dataclass
class _Sources:
    """What a patch's C files give the extraction: their images, the functions it
    touches, and per image the definitions and one-call macros inlining may use."""
    images: dict[str, FileImages] = field(default_factory=dict)
    found: list[_Found] = field(default_factory=list)
    helpers: dict[str, dict[str, CFunction]] = field(default_factory=lambda: {"pre": {}, "post": {}})
    aliases: dict[str, dict[str, str]] = field(default_factory=lambda: {"pre": {}, "post": {}})


def extract_patch(patch: Patch, tree: str | None = None, *, state: dict[str, str] | None = None,
                  index: TreeIndex | None = None) -> PatchRules:
    """The rules of one patch. `state` (path -> text) carries the files as earlier
    patches of the same series left them; it is updated with this patch's
    post-images (tree mode)."""
    index = index or TreeIndex(tree)
    state = {} if state is None else state
    pr = PatchRules(label=getattr(patch, "label", ""), title=getattr(patch, "title", ""), patch=patch)
    sources = _read_sources(patch, index, state, pr)
    # every touched function in both images: a change on one side is a change of both
    full = _in_both_images(sources)
    changed_names = {f.fn.name for f in sources.found}
    finders = {side: _helper_finder(sources, side, index, state) for side in ("pre", "post")}

    def inline_ok(name: str) -> bool:
        """Vocabulary helpers keep their cited meaning unless this patch changes them
        (directly or behind a one-call macro)."""
        if name not in CALLS or name in changed_names:
            return True
        target = sources.aliases["pre"].get(name) or sources.aliases["post"].get(name)
        return bool(target) and target in changed_names

    per_image: dict[str, list[FunctionRules]] = {"pre": [], "post": []}
    for f in sorted(full, key=lambda x: (x.file, x.fn.start_line, x.image)):
        fr = _function_rules(f, pr, finders[f.image], inline_ok)
        if fr is not None and fr.complete:
            per_image[f.image].append(fr)
    # assertions from partial functions are local to their line and kept
    for fr in pr.functions:
        if not fr.complete:
            per_image[fr.image].append(FunctionRules(fr.file, fr.function, fr.image, fr.source, fr.start_line,
                                                     fr.end_line, False, fr.binding, [], fr.assertions))
    pr.pre = _image_rules(per_image["pre"])
    pr.post = _image_rules(per_image["post"])
    _advance(state, sources.images)
    return pr


def _read_sources(patch: Patch, index: TreeIndex, state: dict[str, str], pr: PatchRules) -> _Sources:
    """The images of every C file of the patch and what each side gives; the files
    that are not C (or are binary) are listed as skipped, unreadable images warned of."""
    sources = _Sources()
    for fd in patch.files:
        if fd.is_binary or not is_c_file(fd.path):
            pr.skipped_files.append(fd.path)
            continue
        try:
            img = file_images(fd, index, state)
        except Exception as exc:  # a damaged image must not hide the other files
            pr.warnings.append(f"{fd.path}: could not read its images: {type(exc).__name__}: {exc}")
            continue
        sources.images[fd.path] = img
        pr.warnings += img.warnings
        for side in ("pre", "post"):
            sources.aliases[side].update(img.aliases(side))
            changed = img.changed_functions(side)
            for f in changed.helpers:
                sources.helpers[side].setdefault(f.name, f)
            pr.warnings += changed.warnings
            sources.found += [_Found(f, fd.path, side, "hunks", fd) for f in changed.from_hunks]
            sources.found += [_Found(f, fd.path, side, img.source, fd) for f in changed.touched]
    return sources


def _in_both_images(sources: _Sources) -> list[_Found]:
    """The touched functions, and each one's definition in the other image where a
    whole image shows it."""
    names = []
    for f in sources.found:
        if (f.file, f.fn.name) not in names:
            names.append((f.file, f.fn.name))
    full = list(sources.found)
    for file, name in names:
        img = sources.images[file]
        if img.source == "hunks":
            continue
        for side in ("pre", "post"):
            if not any(x.file == file and x.fn.name == name and x.image == side for x in full):
                fn = next((g for g in img.functions(side) if g.name == name), None)
                if fn is not None:
                    full.append(_Found(fn, file, side, img.source, img.diff))
    return full


def _helper_finder(sources: _Sources, side: str, index: TreeIndex, state: dict[str, str]):
    """name -> the definition inlining uses in `side`: the patch's own files first, then
    the tree (its files as the series left them, and for the post image as this patch
    leaves them), through up to three one-call macros."""
    local = sources.helpers[side]
    aliases = sources.aliases[side]
    overrides = dict(state)
    if side == "post":
        for path, img in sources.images.items():
            if img.post is not None:
                overrides[path] = img.post

    def find(name: str, hops: int = 0) -> CFunction | None:
        fn = local.get(name) or index.find(name, overrides)
        if fn is None and hops < 3:
            target = aliases.get(name) or index.alias(name, overrides)
            if target and target != name:
                return find(target, hops + 1)
        return fn
    return find


def _function_rules(f: _Found, pr: PatchRules, helpers, inline_ok) -> FunctionRules | None:
    """One touched function's rules, recorded in `pr` (bound or unbound, partial,
    unmodelled atoms, warnings); None when it is unbound or could not be read."""
    bind = binding(f.fn.name)
    key = f"{f.file}:{f.fn.name}"
    if bind is None:
        if key not in pr.unbound:
            pr.unbound.append(key)
            if f.fn.name in CALLS:
                pr.warnings.append(f"{key}: a vocabulary helper ({CALLS[f.fn.name].cite}); this patch "
                                   f"adds or changes it: bound functions of this patch inline its new body, "
                                   f"elsewhere the vocabulary's meaning stands")
        return None
    roles = [d.point for d in bind.decisions] + ([bind.primitive] if bind.primitive else [])
    entry = f"{key} -> {', '.join(roles)}"
    if entry not in pr.bound:
        pr.bound.append(entry)
    try:
        fr = extract_function(f.fn, f.file, f.image, f.source, bind, helpers, inline_ok,
                              _hunk_lookup(f.fd, f.image))
    except RecursionError:
        pr.warnings.append(f"{key} ({f.image}): too deeply nested to read: no rules")
        return None
    except Exception as exc:  # one unreadable function must not hide the others
        pr.warnings.append(f"{key} ({f.image}): could not read it ({type(exc).__name__}: {exc}): no rules")
        return None
    pr.functions.append(fr)
    pr.warnings += [f"{f.image}: {w}" for w in fr.warnings]
    if not fr.complete:
        why = "only the hunks show it, and not whole" if f.source == "hunks" else "tree-sitter could not read it whole"
        pr.partial.append((f.fn.name, f.file, f.fn.start_line, f"{f.image}: {why}"))
        pr.partial_decisions += fr.decisions
    if fr.assertions or fr.complete:
        for name, line in fr.unmodelled:
            pr.unmodelled.append((name, f.file, line, f.image))
    return fr


def _advance(state: dict[str, str], images: dict[str, FileImages]) -> None:
    """`state` as this patch leaves the tree's files (tree mode only)."""
    for path, img in images.items():
        if img.source == "tree" and img.post is not None:
            state[img.diff.new_path or path] = img.post
        if img.source == "tree" and img.diff.new_path is None and img.diff.old_path:
            state.pop(img.diff.old_path, None)


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
