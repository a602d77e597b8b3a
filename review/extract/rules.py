"""Rule extraction: the rules a patch implements, from its C, before and after.

For every C function a patch touches and review/extract/bindings.py binds to a decision point
or a primitive, the pre- and post-image are read (review/extract/images.py: git images, whole
files from a repository or a tree (review/extract/sources.py), or the hunks alone) and walked (review/extract/paths.py):
  - assertion rules: VM_BUG_ON*/VM_WARN_ON*/WARN_ON*/BUG_ON conditions (under the path
    condition that reaches them) -> spec.decisions.AssertionRule at the primitive;
  - decision rules: the path conditions leading to each outcome marker ->
    spec.decisions.ExtractedDecision with one GuardedOutcome per path.
Conditions are spec.expr trees over DecisionContext fields (review/extract/vocab.py); unknown
identifiers become Free atoms, listed as unmodelled with their line. Nothing from a
patch is evaluated as Python.

Library interface (used by `mmreview check`, the TUI and `mmreview extract`):

    extract_series(patches, tree=None, *, repo=None, base=None) -> list[PatchRules]
    extract_with(patches, base) -> list[PatchRules]          (a Base the caller holds)
    extract_patch(patch, tree=None, *, base=None, series=None) -> PatchRules
    PatchRules.overlay(base_ruleset, image="post", free=None) -> RuleSet
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from spec import expr as E
from spec.decisions import (
    DECISION_POINTS, AssertionRule, ExtractedDecision, GuardedOutcome, Provenance, RuleSet,
)
from review.extract.bindings import Binding, binding
from review.extract import cparse, flag_alias, plumbing
from review.extract.classify import Candidate, Evidence, classify
from review.extract.coverage import Coverage
from review.extract.cparse import CFunction
from review.extract.equivalence import Comparison, compare
from review.extract.apply import LineMap
from review.extract.flag_alias import FlagAlias
from review.extract.hunks import REST_PREFIX
from review.extract.patchfiles import Found, PatchFiles, read_patch_files
from review.extract.sources import NO_BASE, Base, FileSource, SeriesFiles
from review.extract.paths import Walker
from review.extract.simplify import mk_and, mk_not
from review.extract.vocab import CALLS
from review.model import Patch


@dataclass
class FunctionRules:
    """The rules of one function in one image."""
    file: str
    function: str
    image: str                 # "pre" | "post"
    source: str                # "git" | "tree" | "repo" | "hunks"
    start_line: int
    end_line: int
    complete: bool
    binding: Binding | None
    decisions: list[ExtractedDecision] = field(default_factory=list)
    assertions: list[AssertionRule] = field(default_factory=list)
    unbound_assertions: list[tuple[str, str, int, str]] = field(default_factory=list)  # macro, cond, line, text
    unmodelled: list[tuple[str, int, str]] = field(default_factory=list)  # atom, line, file ("" = this one)
    window: bool = False       # read from a hunk's window: its unseen rest is unmodelled
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
    partial     (function, file, line, why): functions not seen whole and not trusted
    windows     (function, file, first line, last line, image): functions read from the
                hunks' windows (review/extract/hunks.py); their rules are kept, with what
                the window does not show as unmodelled atoms
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
    windows: list[tuple[str, str, int, int, str]] = field(default_factory=list)
    partial_decisions: list[ExtractedDecision] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    sources: list[FileSource] = field(default_factory=list)  # where each C file's pre-image came from
    warnings: list[str] = field(default_factory=list)
    patch: Patch | None = None
    coverage: Coverage = field(default_factory=Coverage)
    flag_aliases: list[FlagAlias] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.pre.decisions or self.pre.assertions or self.post.decisions or self.post.assertions)

    def told_sources(self) -> list[FileSource]:
        """The pre-image sources worth a line of their own: all but "the mail, since
        there is no repository or tree", which a run says once, not per file."""
        return [s for s in self.sources if not (s.origin == "mail" and s.why == NO_BASE)]

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

    def comparisons(self) -> dict[str, Comparison]:
        """Every decision point either image has, compared pre against post by truth
        table (review/extract/equivalence.py). A point only one image has differs."""
        pre = {d.point: d for d in self.pre.decisions}
        post = {d.point: d for d in self.post.decisions}
        out = {}
        for point in sorted(set(pre) | set(post)):
            a, b = pre.get(point), post.get(point)
            out[point] = compare(a, b) if a is not None and b is not None else \
                Comparison("differs", why="only the " + ("post" if a is None else "pre") + "-image has it")
        return out

    def changed_points(self) -> list[str]:
        """Decision points whose extracted rules may differ in meaning between pre and
        post: proved different, or not proved equal."""
        return [p for p, c in self.comparisons().items() if not c.equivalent]


# ---------------------------------------------------------------- one function

def extract_function(fn: CFunction, file: str, image: str, source: str, bind: Binding | None,
                     helpers=None, inline_ok=None, lines: LineMap | None = None) -> FunctionRules:
    """Walk one function once per decision it is bound to (once if none). `lines`: the
    lines of the image `fn` was read from against the patch's (review/extract/apply.py):
    rules give the patch's line numbers, the ones every reader of the mail shares."""
    to_patch = lines.to_patch if lines is not None else (lambda n: n)

    def prov(line: int, text: str, function: str = fn.name) -> Provenance:
        return Provenance(file, function, to_patch(line), image, lines.hunk_of(line) if lines else "", text)

    fr = FunctionRules(file, fn.name, image, source, to_patch(fn.start_line), to_patch(fn.end_line),
                       fn.complete, bind)
    fr.window = source == "hunks" and not fn.complete
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
            cases = [GuardedOutcome(r.guard, r.outcome, prov(r.line, r.text))
                     for r in res.reached if r.guard != E.FALSE]
            if fr.window:
                cases += _unseen_rest(db.point, fn, res.fallthrough,
                                      prov(fn.end_line, f"(the rest of {fn.name} is not in the hunk)"))
            for c in cases:
                used |= E.free_atoms(c.guard)
            # a window's paths that leave it are decided above: no default of its own
            default = None if fr.window else db.default
            if db.scope:   # it decides for these pages only; others decide elsewhere
                cases = [GuardedOutcome(mk_and(E.Atom(db.scope), c.guard), c.outcome, c.provenance)
                         for c in cases]
                default = None
            if cases or default:
                fr.decisions.append(ExtractedDecision(db.point, tuple(cases), default))
        if i == 0:
            _assertion_rules(fr, res, bind, prov, used)
        seen = {n for n, _, _ in fr.unmodelled}
        for u in res.unmodelled:
            if u.name in used and u.name not in seen:
                here = u.file in (file, "")
                fr.unmodelled.append((u.name, to_patch(u.line) if here else u.line, "" if here else u.file))
                seen.add(u.name)
        if fr.window:
            for name in sorted(used - seen):
                if name not in {n for n, _, _ in fr.unmodelled}:   # the window's own atoms
                    fr.unmodelled.append((name, fr.start_line, ""))
    return fr


def _assertion_rules(fr: FunctionRules, res, bind: Binding | None, prov, used: set[str]) -> None:
    for a in res.assertions:
        p = prov(a.line, a.text, fr.function)
        if a.condition == E.FALSE:
            fr.warnings.append(f"{fr.function}: line {p.line}: {a.macro}({a.text}) can never fire in "
                               f"the model (it reads only things the model fixes)")
        used |= E.free_atoms(a.condition)
        if bind is not None and bind.primitive:
            fr.assertions.append(AssertionRule(bind.primitive, a.condition, a.macro, p))
        else:
            fr.unbound_assertions.append((a.macro, str(a.condition), p.line, a.text))


def _unseen_rest(point: str, fn: CFunction, left: E.Expr, prov: Provenance) -> list[GuardedOutcome]:
    """Paths that leave a hunk's window: the unseen rest of the function decides, the
    same way before and after the patch (the patch does not change what it does not
    show). Which outcome is an unmodelled choice, one atom per outcome but the last."""
    if left == E.FALSE:
        return []
    where = fn.entry_atom.split(" at ", 1)[1] if " at " in fn.entry_atom else f"line {fn.end_line}"
    out = []
    outcomes = DECISION_POINTS[point].outcomes
    for o in outcomes[:-1]:
        choice = E.Free(f"{REST_PREFIX}{fn.name} after {where} decides {o}")
        out.append(GuardedOutcome(mk_and(left, choice), o, prov))
        left = mk_and(left, mk_not(choice))
    out.append(GuardedOutcome(left, outcomes[-1], prov))
    return [c for c in out if c.guard != E.FALSE]


# ---------------------------------------------------------------- one patch

def extract_patch(patch: Patch, tree: str | None = None, *, base: Base | None = None,
                  series: SeriesFiles | None = None) -> PatchRules:
    """The rules of one patch. `base`: where whole files come from (default: `tree`,
    or nothing); `series` carries the files as earlier patches of the same series left
    them, and is updated with this patch's post-images."""
    if base is None:
        with Base(tree=tree) as own:
            return extract_patch(patch, base=own, series=series)
    series = SeriesFiles() if series is None else series
    pr = PatchRules(label=getattr(patch, "label", ""), title=getattr(patch, "title", ""), patch=patch)
    files = read_patch_files(patch, base, series)
    pr.skipped_files, pr.sources = files.skipped, files.sources
    pr.warnings += files.warnings
    full = files.in_both_images()
    changed_names = {f.fn.name for f in files.found}
    finders = {side: files.helper_finder(side) for side in ("pre", "post")}

    def inline_ok(name: str) -> bool:
        """Vocabulary helpers keep their cited meaning unless this patch changes them
        (directly or behind a one-call macro)."""
        if name not in CALLS or name in changed_names:
            return True
        target = files.aliases["pre"].get(name) or files.aliases["post"].get(name)
        return bool(target) and target in changed_names

    per_image: dict[str, list[FunctionRules]] = {"pre": [], "post": []}
    for f in sorted(full, key=lambda x: (x.file, x.fn.start_line, x.image)):
        fr = _function_rules(f, pr, finders[f.image], inline_ok)
        if fr is not None and (fr.complete or fr.window):
            per_image[f.image].append(fr)
    # assertions from partial functions are local to their line and kept
    for fr in pr.functions:
        if not fr.complete and not fr.window:
            per_image[fr.image].append(FunctionRules(fr.file, fr.function, fr.image, fr.source, fr.start_line,
                                                     fr.end_line, False, fr.binding, [], fr.assertions))
    pr.pre = _image_rules(per_image["pre"])
    pr.post = _image_rules(per_image["post"])
    pr.coverage = _coverage(pr, full, files, finders)
    # the tree as this patch leaves it: the series so far, then this patch's images
    after = {**series.texts, **{p: img.post for p, img in files.images.items() if img.post is not None}}
    pr.flag_aliases = flag_alias.audit(
        patch.files, _alias_tree(base, after),
        {(t.file, t.function) for t in pr.coverage.touched}, _post_texts(files))
    files.advance()
    return pr


def _alias_tree(base: Base, after: dict[str, str]) -> flag_alias.Tree:
    """Where the flag-alias audit looks for uses: the tree, else the repository."""
    if base.tree is not None:
        return flag_alias.Tree(base.tree, overrides=after)
    if base.repo is not None:
        return flag_alias.Tree(base.repo.path, repo=True, overrides=after)
    return flag_alias.Tree(None, overrides=after)


def _coverage(pr: PatchRules, found: list[Found], files: PatchFiles, finders: dict) -> Coverage:
    """Each touched function in one class (review/extract/classify.py)."""
    candidates: dict[tuple[str, str], Candidate] = {}
    for f in found:
        c = candidates.setdefault((f.file, f.fn.name), Candidate(f.file, f.fn.name))
        setattr(c, f.image, f.fn)
        c.changed += _changed_code(f.lines, f.fn)
    bound = {}
    for entry in pr.bound:
        key, roles = entry.split(" -> ", 1)
        bound[key] = roles
    inlined_by: dict[str, tuple[str, str]] = {}
    for fr in pr.functions:
        if fr.binding is not None:
            roles = bound.get(f"{fr.file}:{fr.function}", "")
            for name in fr.inlined - {fr.function}:
                inlined_by.setdefault(name, (fr.function, roles))
    called_by = {name: f.fn.name for f in found if binding(f.fn.name) is not None
                 for name in cparse.called_names(f.fn.body)}
    images = {side: {**files.helpers[side], **{f.fn.name: f.fn for f in found if f.image == side}}
              for side in ("pre", "post")}
    from_mail = {name: path for path, img in files.images.items() for name in img.mail_function_names()}
    ev = Evidence(bound, inlined_by, finders["pre"], finders["post"],
                  plumbing.renames(images["pre"], images["post"]), called_by, from_mail)
    return classify(list(candidates.values()), ev)


def _post_texts(files: PatchFiles) -> dict[str, str]:
    """Each C file as the patch leaves it: the whole post-image, else its hunks' rows."""
    return {path: img.post if img.post is not None else
            "\n".join(ln.text for h in img.diff.hunks for ln in h.lines if ln.kind != "removed")
            for path, img in files.images.items()}


def _changed_code(lines: LineMap, fn: CFunction) -> list[str]:
    """The lines of `fn` that the patch removes (pre) or adds (post), in the lines of
    the image `fn` was read from."""
    return [text for at, text in lines.changed_rows() if fn.start_line <= at <= fn.end_line]


def _function_rules(f: Found, pr: PatchRules, helpers, inline_ok) -> FunctionRules | None:
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
        fr = extract_function(f.fn, f.file, f.image, f.source, bind, helpers, inline_ok, f.lines)
    except RecursionError:
        pr.warnings.append(f"{key} ({f.image}): too deeply nested to read: no rules")
        return None
    except Exception as exc:  # one unreadable function must not hide the others
        pr.warnings.append(f"{key} ({f.image}): could not read it ({type(exc).__name__}: {exc}): no rules")
        return None
    pr.functions.append(fr)
    pr.warnings += [f"{f.image}: {w}" for w in fr.warnings]
    if fr.window:
        pr.windows.append((f.fn.name, f.file, fr.start_line, fr.end_line, f.image))
    elif not fr.complete:
        why = "only the hunks show it, and not whole" if f.source == "hunks" else "tree-sitter could not read it whole"
        pr.partial.append((f.fn.name, f.file, fr.start_line, f"{f.image}: {why}"))
        pr.partial_decisions += fr.decisions
    if fr.assertions or fr.complete or fr.window:
        for name, line, where in fr.unmodelled:
            pr.unmodelled.append((name, where or f.file, line, f.image))
    return fr


def _image_rules(frs: list[FunctionRules]) -> ImageRules:
    """One decision per point (the function that inlines the most of the others: the
    caller's rules include its helpers'), every assertion. The windows of one function
    are one rule: their cases in line order."""
    by_point: dict[str, list[tuple[FunctionRules, ExtractedDecision]]] = {}
    for fr in _join_windows(frs):
        for d in fr.decisions:
            by_point.setdefault(d.point, []).append((fr, d))
    decisions = []
    for point, cands in by_point.items():
        scoped = [d for fr, d in cands if _scope(fr, point)]
        broad = [(fr, d) for fr, d in cands if not _scope(fr, point)]
        best = None
        if broad:
            names = {fr.function for fr, _ in broad}
            best = max(broad, key=lambda c: len(c[0].inlined & names))[1]
        if not scoped:
            decisions.append(best)
            continue
        # functions that decide for some pages only (PMD level) first, each under its
        # scope; the broad rule, if the patch has one, for the rest
        cases = tuple(c for d in scoped for c in d.cases) + (best.cases if best else ())
        decisions.append(ExtractedDecision(point, cases, best.default if best else None))
    assertions = tuple(a for fr in frs for a in fr.assertions)
    return ImageRules(tuple(decisions), assertions)


def _scope(fr: FunctionRules, point: str) -> str | None:
    if fr.binding is None:
        return None
    return next((d.scope for d in fr.binding.decisions if d.point == point), None)


def _join_windows(frs: list[FunctionRules]) -> list[FunctionRules]:
    out: list[FunctionRules] = []
    joined: dict[tuple[str, str], FunctionRules] = {}
    for fr in frs:
        key = (fr.file, fr.function)
        if not fr.window or key not in joined:
            out.append(fr)
            if fr.window:
                joined[key] = fr
            continue
        into = joined[key]
        for d in fr.decisions:
            same = next((i for i, x in enumerate(into.decisions) if x.point == d.point), None)
            if same is None:
                into.decisions.append(d)
            else:
                cases = sorted(into.decisions[same].cases + d.cases,
                               key=lambda c: c.provenance.line if c.provenance else 0)
                into.decisions[same] = ExtractedDecision(d.point, tuple(cases), None)
        into.inlined |= fr.inlined
    return out


def extract_series(patches: Iterable[Patch], tree: str | None = None, *, repo: str | None = None,
                   base: str | None = None) -> list[PatchRules]:
    """Every patch of a series in order, whole files from `repo` (at `base`, default
    HEAD) and/or `tree` (review/extract/sources.py); each patch's pre-image is the file
    as the earlier patches left it when nothing better is known."""
    with Base(repo=repo, tree=tree, rev=base) as where:
        return extract_with(patches, where)


def extract_with(patches: Iterable[Patch], base: Base) -> list[PatchRules]:
    """extract_series over a Base the caller holds (and closes)."""
    series = SeriesFiles()
    return [extract_patch(p, base=base, series=series) for p in patches]
