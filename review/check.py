"""`mmreview check`: per patch, extract its rules and fuzz them.

For every patch of the input:
  1. extract the pre- and post-image rules of the bound functions it touches
     (review/extract), with their unmodelled atoms and what was partial;
  2. build overlays on the reference rule set: `<ref>+pre` and `<ref>+post`;
  3. fuzz (review/fuzz.search):
     (a) invariants: the post-image rules against the contract and the internal
         invariants (and the patch's own assertions);
         reference: the post-image rules against the reference rule set;
     (b) differential: pre- against post-image rules: an observable difference is a
         behaviour change, and a finding of its own when the commit message claims
         no functional change (review/nfc.py);
  every search runs once per valuation of the unmodelled atoms (both ways for each,
  up to MAX_FREE_ATOMS atoms exhaustively, then all-true/all-false plus seeded
  random valuations);
  4. turn what the fuzzer found into report Findings: severity, the implicated rule
     with the patch's file and line (the guarded outcome that fired on the trace; the
     changed rule when one fired), the shrunk trace written to a replay file.

Search budgets are per patch (--budget seconds, split over its searches; each search
also stops at --max-examples). Seeds are derived from --seed, the patch's position
and the search, so the result does not depend on --workers or on other patches.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from spec import expr as E
from spec.clauses import CLAUSES
from spec.decisions import AssertionRule, ExtractedDecision, GuardedOutcome, RuleSet
from spec.trace import parse_trace

from review.errors import InputError
from review.extract import ImageRules, PatchRules
from review.nfc import find_claim
from review.report import CheckReport, Finding, PatchRef, PatchResult, severity_of
from review.report import locate

CONTRACT_IDS = tuple(c.id for c in CLAUSES.values() if c.kind == "contract")
INVARIANT_IDS = tuple(c.id for c in CLAUSES.values() if c.kind != "contract")
MAX_FREE_ATOMS = 3      # 2**3 valuations explored exhaustively; more get sampled
SAMPLED_VALUATIONS = 4  # all-true, all-false and two seeded random ones
DEFAULT_BUDGET = 3.0    # seconds per patch: 15 patches in < 60 s on 2 cores
DEFAULT_MAX_EXAMPLES = 400
QUICK_DEPTH = 5         # the quick exhaustive pass (review/check_explore.py)
QUICK_SHARE = 0.5       # of the budget, at most, before the fuzzer takes over


# --- what extraction gives us, per patch ------------------------------------------
#
# review.extract.PatchRules: pre/post ImageRules (decisions, assertions), bound,
# unbound, unmodelled (atom, file, line, image), partial (function, file, line, why),
# free_atoms(), changed_points() (decision points whose rules differ in meaning).

# --- options and the per-patch job ------------------------------------------------

@dataclass
class Options:
    budget: float = DEFAULT_BUDGET
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int = 0
    database: object = None        # a hypothesis ExampleDatabase, or None
    reference: str = "current"
    exhaustive: int = 0            # --exhaustive DEPTH (0: off)
    out_dir: Path | None = None    # where replay traces are written
    replay_hint: str = ""          # "mmreview check INPUT" prefix of replay commands
    tree: str | None = None


def valuations(atoms: list[str], seed: int) -> list[dict[str, bool]]:
    """Both ways for each unmodelled atom: every combination when there are few,
    else all-true, all-false and seeded random ones."""
    if not atoms:
        return [{}]
    if len(atoms) <= MAX_FREE_ATOMS:
        out = []
        for bits in range(2 ** len(atoms)):
            out.append({a: bool(bits >> i & 1) for i, a in enumerate(atoms)})
        return out
    rnd = random.Random(seed)
    out = [{a: True for a in atoms}, {a: False for a in atoms}]
    while len(out) < SAMPLED_VALUATIONS:
        v = {a: rnd.random() < 0.5 for a in atoms}
        if v not in out:
            out.append(v)
    return out


def patch_key(patch) -> str:
    """A short digest of a patch's diff: names its rule sets (`current+post@<key>`), so
    that example-database entries and replay files belong to one patch."""
    text = getattr(patch, "diff_text", "") or getattr(patch, "title", "")
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:10]


def derive_seed(seed: int, *parts: object) -> int:
    h = hashlib.sha256(repr((seed,) + parts).encode()).digest()
    return int.from_bytes(h[:4], "big")


def changed_cases(pre: ImageRules, post: ImageRules) -> tuple[list, list]:
    """Guarded outcomes and assertions in one image and not the other (compared by
    meaning: point, guard tree, outcome; not by line), post-image first."""
    def dkeys(img: ImageRules):
        return {(d.point, c.guard, c.outcome): c for d in img.decisions for c in d.cases}

    def akeys(img: ImageRules):
        return {(a.primitive, a.condition, a.macro): a for a in img.assertions}
    pre_d, post_d = dkeys(pre), dkeys(post)
    pre_a, post_a = akeys(pre), akeys(post)
    added = [post_d[k] for k in post_d if k not in pre_d] + [post_a[k] for k in post_a if k not in pre_a]
    removed = [pre_d[k] for k in pre_d if k not in post_d] + [pre_a[k] for k in pre_a if k not in post_a]
    return added, removed


def rule_text(rule, point: str = "") -> str:
    """A rule as a reviewer reads it:
    `fork.anon_pte: anon_exclusive && maybe_pinned -> copy (at `return -EBUSY;`)`."""
    prov = getattr(rule, "provenance", None)
    at = f" (at `{' '.join(prov.text.split())}`)" if prov is not None and prov.text else ""
    if isinstance(rule, GuardedOutcome):
        return f"{point + ': ' if point else ''}{rule.guard} -> {rule.outcome}{at}"
    if isinstance(rule, AssertionRule):
        return f"{rule.primitive}: {rule.macro}({rule.condition}){at}"
    return str(rule)


def _where(rule) -> str:
    prov = getattr(rule, "provenance", None)
    return f"{prov.file}:{prov.line} ({prov.image}-image)" if prov is not None else "?"


def _point_of(rule, rules: PatchRules) -> str:
    for img in (rules.post, rules.pre):
        for d in img.decisions:
            if any(c is rule for c in d.cases):
                return d.point
    return ""


# --- which rule a trace implicates --------------------------------------------------

class _Recorder:
    """Wraps a rule set's decisions to record which extracted case decided each ask."""

    def __init__(self, rules: RuleSet, image: ImageRules):
        self.fired: list[tuple[int, object]] = []   # (step index, GuardedOutcome)
        self.step = 0
        decide = dict(rules.decide)
        valuation = dict(rules.free)
        for d in image.decisions:
            decide[d.point] = self._wrap(d, decide[d.point], valuation)
        from dataclasses import replace
        self.rules = replace(rules, decide=decide)

    def _wrap(self, d: ExtractedDecision, inner, valuation):
        def decide(ctx):
            for c in d.cases:
                if E.evaluate(c.guard, ctx, valuation):
                    self.fired.append((self.step, c))
                    break
            return inner(ctx)
        return decide


def implicated(trace: dict, rules: RuleSet, image: ImageRules, changed: list,
               upto: int | None = None) -> object | None:
    """The extracted rule a trace implicates: the last changed rule that decided a
    step up to `upto`, else the last extracted rule that did; None if none fired."""
    from spec.run import Session
    rec = _Recorder(rules, image)
    session = Session(rec.rules)
    try:
        steps = parse_trace(trace).steps
        for i, s in enumerate(steps):
            if upto is not None and i > upto:
                break
            rec.step = i
            session.step(s)
    except Exception:  # a trace the rules cannot replay: fall back to no rule
        pass
    if not rec.fired:
        return None
    changed_ids = {id(c) for c in changed}
    for _, c in reversed(rec.fired):
        if id(c) in changed_ids:
            return c
    return rec.fired[-1][1]


# --- one patch ----------------------------------------------------------------------

@dataclass
class PatchJob:
    ref: PatchRef
    patch: object                  # review.model.Patch
    rules: PatchRules | None
    mail_lines: list[str] | None   # the mail as given, for checkpatch's -:N:
    extract_error: str = ""


def _steps_with_results(trace: dict, rules: RuleSet) -> list[str]:
    """Readable steps, each with its result under `rules` when it has a value or was
    refused (`dma_read id=p0 -> 1`)."""
    from spec.run import run_trace
    from spec.trace import format_step
    t = parse_trace(trace)
    try:
        rep = run_trace(t, rules)
        results = rep.results
    except Exception:
        results = []
    out = []
    for i, s in enumerate(t.steps):
        line = format_step(s)
        if i < len(results):
            r = results[i]
            if r.status != "ok":
                line += f" -> {r.status}"
            elif r.value is not None:
                line += f" -> {r.value}"
        out.append(line)
    return out


class PatchChecker:
    """Runs every search of one patch and turns the fuzzer's findings into report
    findings. `search` is review.fuzz.search (injectable for tests of the plumbing)."""

    def __init__(self, job: PatchJob, opts: Options, presets: dict[str, RuleSet],
                 search: Callable, verify: Callable | None = None):
        self.job = job
        self.opts = opts
        self.presets = presets
        self.search = search
        self.verify = verify
        self.result = PatchResult(job.ref)
        self.deadline = 0.0

    # -- helpers
    def _changed_lines(self) -> tuple[dict, dict]:
        """{file: added post-image lines}, {file: removed pre-image lines}."""
        added: dict[str, set[int]] = {}
        removed: dict[str, set[int]] = {}
        for fd in getattr(self.job.patch, "files", []):
            for h in fd.hunks:
                for ln in h.lines:
                    if ln.kind == "added":
                        added.setdefault(fd.path, set()).add(ln.new_lineno)
                    elif ln.kind == "removed":
                        removed.setdefault(fd.old_path or fd.path, set()).add(ln.old_lineno)
        return added, removed

    def _on_changed_line(self, rule) -> bool:
        prov = getattr(rule, "provenance", None)
        if prov is None:
            return False
        added, removed = self._changed_lines()
        lines = added if prov.image == "post" else removed
        return prov.line in lines.get(prov.file, ())

    def _choose(self, decided, added: list, removed: list):
        """Which rule the finding points at: the rule that decided the trace when the
        patch wrote that line; else a rule of the same decision point on a line the
        patch removed or added (a dropped check shows as the removed `return
        -EBUSY;`); else the deciding rule. Returns (primary, deciding-if-different)."""
        if decided is None or self._on_changed_line(decided):
            if decided is not None:
                return decided, None
        point = _point_of(decided, self.job.rules) if decided is not None else None
        for pool in (removed, added):
            for r in pool:
                if not self._on_changed_line(r):
                    continue
                if point is None or _point_of(r, self.job.rules) in (point, ""):
                    return r, decided
        return decided, None

    def _finding_place(self, f: Finding, decided, added: list = (), removed: list = ()) -> None:
        rule, also = self._choose(decided, list(added), list(removed))
        prov = getattr(rule, "provenance", None)
        if rule is not None:
            point = _point_of(rule, self.job.rules)
            text = rule_text(rule, point)
            if prov is not None and prov.image == "pre":
                text = f"removed by the patch: {text}"
            if also is not None:
                text += f"; decided instead: {rule_text(also)} at {_where(also)}"
            f.rule = text
        if prov is not None:
            f.file, f.line, f.image, f.function = prov.file, prov.line, prov.image, prov.function
        else:
            # no rule fired: the first changed line of the patch
            first = self._first_changed_line()
            if first:
                f.file, f.line, f.image = first
        if self.job.mail_lines and f.file and f.line:
            pos = locate.find(self.job.mail_lines, f.file, f.line, f.image)
            if pos is not None:
                f.mail_line = pos.index + 1

    def _first_changed_line(self) -> tuple[str, int, str] | None:
        for fd in getattr(self.job.patch, "files", []):
            for h in fd.hunks:
                for ln in h.lines:
                    if ln.kind == "added":
                        return fd.path, ln.new_lineno, "post"
                    if ln.kind == "removed":
                        return fd.path, ln.old_lineno, "pre"
        return None

    def _write_trace(self, f: Finding, trace: dict, ruleset: str, about: str) -> None:
        t = dict(trace)
        t["ruleset"] = ruleset
        t["about"] = about
        t["source"] = f"{self.job.ref.source} patch {self.job.ref.index}/{self.job.ref.total}"
        f.trace = t
        if self.opts.out_dir is None:
            return
        digest = hashlib.sha256(json.dumps(t, sort_keys=True).encode()).hexdigest()[:10]
        name = f"{self.job.ref.index:04d}-{f.id}-{digest}.json"
        self.opts.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.opts.out_dir / name
        path.write_text(json.dumps(t, indent=1) + "\n")
        f.trace_file = str(path)
        hint = self.opts.replay_hint or "mmreview check INPUT"
        f.replay = f"{hint} --patch {self.job.ref.index} --replay {path}"

    def _budget_left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    # -- the run
    def run(self) -> PatchResult:
        t0 = time.monotonic()
        job, res = self.job, self.result
        patch = job.patch
        claim = find_claim(getattr(patch, "commit_message", "") or "", getattr(patch, "title", "") or "")
        if claim:
            res.nfc_claim = claim.text
        if job.extract_error:
            res.skipped = f"extraction failed: {job.extract_error}"
            return res
        rules = job.rules
        self._extraction_notes(rules)
        if rules.bound:
            res.checked.append("bound functions: " + "; ".join(rules.bound))
        if rules.unbound:
            res.checked.append("touched, not bound (not checked): " + ", ".join(rules.unbound))
        if rules.empty:
            partial = sorted({fn for fn, _, _, _ in rules.partial})
            if partial:
                res.skipped = ("bound functions seen only in part, so no rule is trusted "
                               f"(give --tree PATH or a git range): {', '.join(partial)}")
            elif rules.bound:
                res.skipped = "the bound functions it touches yield no decision or assertion rule"
            else:
                res.skipped = ("touches no function bound to a decision point or primitive"
                               + (" (C outside the model)" if rules.unbound else ""))
            if claim:
                res.checked.append(f"claims no functional change (\"{claim.text}\"): "
                                   "nothing bound to check it against")
            res.seconds = time.monotonic() - t0
            return res
        self._run_searches(rules, claim)
        if self.opts.exhaustive and self.verify is not None:
            self._run_exhaustive(rules)
        res.seconds = time.monotonic() - t0
        return res

    def _extraction_notes(self, rules: PatchRules) -> None:
        seen = set()
        for atom, file, line, image in rules.unmodelled:
            if (atom, file, line) in seen:
                continue
            seen.add((atom, file, line))
            f = Finding("note", "unmodelled",
                        f"`{atom}` is not in the vocabulary: explored both ways",
                        file=file, line=line, image=image, mode="extract")
            self._finding_place_plain(f)
            self.result.findings.append(f)
        for function, file, line, why in rules.partial:
            f = Finding("note", "partial", f"{function}: {why}", file=file, line=line,
                        function=function, mode="extract")
            self._finding_place_plain(f)
            self.result.findings.append(f)

    def _finding_place_plain(self, f: Finding) -> None:
        if self.job.mail_lines and f.file and f.line:
            pos = locate.find(self.job.mail_lines, f.file, f.line, f.image)
            if pos is not None:
                f.mail_line = pos.index + 1

    def _rulesets(self, rules: PatchRules, valuation: dict) -> tuple[RuleSet, RuleSet, RuleSet]:
        ref_name = self.opts.reference
        base = self.presets[ref_name]
        if valuation:
            base_v = base.with_overlay(free=valuation, name=ref_name)
        else:
            base_v = base
        key = patch_key(self.job.patch)
        pre = base.with_overlay(rules.pre.decisions, rules.pre.assertions, free=valuation,
                                name=f"{ref_name}+pre@{key}")
        post = base.with_overlay(rules.post.decisions, rules.post.assertions, free=valuation,
                                 name=f"{ref_name}+post@{key}")
        return base_v, pre, post

    def _run_searches(self, rules: PatchRules, claim) -> None:
        opts, res = self.opts, self.result
        atoms = rules.free_atoms()
        vals = valuations(atoms, derive_seed(opts.seed, self.job.ref.index, "valuations"))
        # pre and post decisions equal in meaning (H4's truth-table comparison):
        # no observable difference is possible, so no differential search
        identical = not rules.changed_points()
        has_post_decisions = bool(rules.post.decisions)
        searches: list[tuple[str, int]] = []
        for vi in range(len(vals)):
            # most telling first: a spent budget drops the informational search.
            # Contract and invariants are searched apart: an invariant usually breaks
            # a step before the contract does, and would hide the contract violation.
            searches.append(("contract", vi))
            searches.append(("invariants", vi))
            if not identical:
                searches.append(("differential", vi))
            if has_post_decisions:
                searches.append(("reference", vi))
        modes = ["invariants"] + (["reference"] if has_post_decisions else [])
        modes += ["differential"] if not identical else []
        if claim:
            modes.append("nfc")
        res.modes = modes
        self.deadline = time.monotonic() + opts.budget
        added, removed = changed_cases(rules.pre, rules.post)
        quick_found = self._run_quick(rules, vals, identical, claim, added, removed)
        per_search = opts.budget / max(1, len(searches))
        # the two halves of the invariants search share its line in the report
        found_ids: dict[tuple[str, str], Finding] = {(f.id, f.where()): f for f in quick_found}
        counts: dict[str, int] = {}
        traces: dict[str, int] = {}
        for n, (mode, vi) in enumerate(searches):
            valuation = vals[vi]
            base, pre, post = self._rulesets(rules, valuation)
            # spread what is left over the searches still to run
            budget = max(0.05, min(self._budget_left() / max(1, len(searches) - n), per_search * 2))
            seed = derive_seed(opts.seed, self.job.ref.index, mode, vi)
            progress: dict = {}
            common = dict(max_examples=opts.max_examples, budget=budget, seed=seed,
                          database=opts.database, on_progress=progress.update)
            if mode == "contract":
                got = self.search(post, mode="invariants", exclude=INVARIANT_IDS, **common)
            elif mode == "invariants":
                got = self.search(post, mode="invariants", exclude=CONTRACT_IDS, **common)
            elif mode == "reference":
                got = self.search(post, reference=base, mode="differential",
                                  exclude=("outcome-difference",), **common)
            else:
                got = self.search(post, reference=pre, mode="differential",
                                  exclude=("outcome-difference",), **common)
            kind = "invariants" if mode == "contract" else mode
            traces[kind] = traces.get(kind, 0) + int(progress.get("examples", 0))
            counts[kind] = counts.get(kind, 0) + 1
            for ff in got:
                f = self._convert(ff, kind, valuation, base, pre, post, added, removed, claim)
                if f is None:
                    continue
                key = (f.id, f.where())
                if key in found_ids:
                    continue
                found_ids[key] = f
                res.findings.append(f)
        if atoms:
            res.checked.append(f"unmodelled atoms {', '.join(atoms)}: {len(vals)} valuations "
                               f"({'all' if len(atoms) <= MAX_FREE_ATOMS else 'sampled'})")
        what = {"invariants": "post-image rules vs contract and invariants",
                "reference": f"post-image rules vs reference `{opts.reference}`",
                "differential": "pre- vs post-image rules"}
        for mode in ("invariants", "reference", "differential"):
            if mode in counts:
                res.checked.append(f"{what[mode]}: {counts[mode]} search(es), "
                                   f"{traces.get(mode, 0)} traces run")
        if identical:
            res.checked.append("pre- and post-image decision rules are equivalent for every "
                               "context (truth tables): no behaviour change possible")
        if claim:
            diff = [f for f in res.findings if f.id == "nfc-claim"]
            res.checked.append(f"claims no functional change (\"{claim.text}\"): "
                               + ("contradicted by a pre/post difference" if diff else
                                  "no observable pre/post difference found"))
        res.examples = sum(traces.values())

    def _points(self, rules: PatchRules) -> list[str]:
        points = []
        for img in (rules.post, rules.pre):
            for d in img.decisions:
                if d.point not in points:
                    points.append(d.point)
            for a in img.assertions:
                if a.primitive not in points:
                    points.append(a.primitive)
        return points

    def _run_quick(self, rules, vals, identical, claim, added, removed) -> list[Finding]:
        """Shortest traces first (review/check_explore.py): every trace of up to
        QUICK_DEPTH steps over the operations that reach what the patch touches,
        within a share of the budget; the fuzzer then searches deeper."""
        from review.check_explore import quick
        res = self.result
        deadline = time.monotonic() + self.opts.budget * QUICK_SHARE
        points = self._points(rules)
        out: list[Finding] = []
        passes = [("invariants", "introduced", CONTRACT_IDS), ("invariants", "introduced", INVARIANT_IDS)]
        if not identical:
            passes.append(("differential", "differential", ("observable-difference",)))
        summaries = []
        for valuation in vals:
            _, pre, post = self._rulesets(rules, valuation)
            for kind, mode, clauses in passes:
                if time.monotonic() >= deadline:
                    break
                # one shortest trace per pass: the fuzzer goes on for the other clauses
                try:
                    got, summary = quick(post, pre, points, depth=QUICK_DEPTH, clauses=clauses,
                                         mode=mode, deadline=deadline, max_findings=1)
                except Exception as exc:  # the engine refusing a model it cannot key soundly
                    res.checked.append(f"shortest-trace pass not run: {type(exc).__name__}: {exc}")
                    return out
                summaries.append(summary)
                for ff in got:
                    f = self._convert(ff, kind, valuation, None, pre, post, added, removed, claim)
                    if f is not None and not any((x.id, x.where()) == (f.id, f.where()) for x in out):
                        out.append(f)
        if summaries:
            res.checked.append(f"shortest traces (post-image beside pre-image rules): "
                               f"{len(summaries)} bounded pass(es), last: {summaries[-1]}")
        res.findings.extend(out)
        return out

    def _convert(self, ff, mode, valuation, base, pre, post, added, removed, claim) -> Finding | None:
        """A review.findings.Finding (one search's result) -> a report Finding."""
        rules = self.job.rules
        trace = dict(ff.trace)
        if valuation:
            trace["free"] = dict(valuation)
        if mode == "invariants":
            fid = ff.clause
            sev = severity_of(fid)
            rule = None
            if fid == "patch-assertion":
                rule = next((a for a in rules.post.assertions
                             if a.provenance and f"{a.provenance.file}:{a.provenance.line}" in ff.message),
                            rules.post.assertions[0] if rules.post.assertions else None)
            if rule is None:
                rule = implicated(trace, post, rules.post, added, upto=ff.step)
            message = ff.message
            # Did the pre-image rules break the same clause on this trace? Then the
            # patch did not introduce it: a note, not a failure.
            from spec.run import run_trace
            try:
                pre_rep = run_trace(parse_trace(trace), pre)
                if fid in pre_rep.clauses:
                    sev = "note"
                    message += " (the pre-image rules break it on this trace too: not introduced by this patch)"
            except Exception:
                pass
            f = Finding(sev, fid, message, mode="invariants")
            self._finding_place(f, rule, added, removed)
            self._write_trace(f, trace, post.name, f"{fid}: {message}")
            f.steps = _steps_with_results(f.trace, post)
            return f
        if ff.clause != "observable-difference":
            return None  # outcome-only differences are not observable: not reported
        diff = ff.difference or {}
        detail = ""
        if diff:
            detail = (f"step {diff.get('step')} {diff.get('op', '')}: "
                      f"{'reference' if mode == 'reference' else 'pre-image'} "
                      f"{_result_text(diff.get('reference'))}, post-image {_result_text(diff.get('patched'))}")
        if mode == "reference":
            changed = [c for d in rules.post.decisions for c in d.cases]
            rule = implicated(trace, post, rules.post, changed, upto=diff.get("step"))
            f = Finding("note", "reference-difference",
                        f"post-image rules differ observably from `{self.opts.reference}`: {ff.message}",
                        mode="reference", detail=detail)
        else:
            rule = implicated(trace, post, rules.post, added, upto=diff.get("step"))
            if claim:
                f = Finding("warning", "nfc-claim",
                            f"claims \"{claim.text}\" but pre- and post-image differ: {ff.message}",
                            mode="nfc", detail=detail)
            else:
                f = Finding("note", "behaviour-change",
                            f"pre- and post-image rules differ observably: {ff.message}",
                            mode="differential", detail=detail)
        self._finding_place(f, rule, added if mode != "reference" else (),
                            removed if mode != "reference" else ())
        self._write_trace(f, trace, post.name, f"{f.id}: {f.message}")
        f.steps = _steps_with_results(f.trace, post)
        return f

    def _run_exhaustive(self, rules: PatchRules) -> None:
        """--exhaustive DEPTH: every trace up to DEPTH steps over the whole alphabet
        (review/verify's bounds: 2 processes, 1 page, 1 pin), no time limit: a
        definite verdict within the bound, for the clauses the patch introduces."""
        from review.check_explore import quick
        depth = self.opts.exhaustive
        _, pre, post = self._rulesets(rules, {})
        added, removed = changed_cases(rules.pre, rules.post)
        try:
            got, summary = quick(post, pre, self._points(rules), depth=depth,
                                 clauses=CONTRACT_IDS + INVARIANT_IDS, mode="introduced",
                                 deadline=None, full_alphabet=True)
        except Exception as exc:
            raise InputError(f"--exhaustive: the exploration engine refused: {exc}") from None
        self.result.checked.append(f"exhaustive to depth {depth}: {summary}")
        for ff in got:
            f = self._convert(ff, "invariants", {}, None, pre, post, added, removed, None)
            if f is not None and not any(x.id == f.id and x.where() == f.where()
                                         for x in self.result.findings):
                f.message += " (shortest trace, exhaustive search)"
                self.result.findings.append(f)


def _result_text(r) -> str:
    if not isinstance(r, dict):
        return str(r)
    if r.get("status", "ok") != "ok":
        return str(r.get("status"))
    return f"reads {r.get('value')}" if "value" in r else "ok"


# --- the whole run --------------------------------------------------------------------

def extract_patches(patches: list, tree: str | None) -> list[tuple[PatchRules | None, str]]:
    """review.extract over one input's patches as a series (with a tree, each patch's
    pre-image is the tree as the earlier patches left it). A patch whose extraction
    fails is reported as such; the others are still checked."""
    from review import extract
    try:
        return [(r, "") for r in extract.extract_series(patches, tree)]
    except InputError:
        raise
    except Exception:
        pass
    out = []
    for p in patches:
        try:
            out.append((extract.extract_patch(p, tree), ""))
        except InputError:
            raise
        except Exception as exc:  # extraction must not take the whole run down
            out.append((None, f"{type(exc).__name__}: {exc}"))
    return out


@dataclass
class Loaded:
    patches: list            # review.model.Patch, in input order
    sources: list[str]       # the INPUT each came from
    mail_lines: list         # per patch: the mail's lines as given, or None
    notes: list[str]


def load_inputs(inputs: list[str], *, repo: str | None = None, stdin=None) -> Loaded:
    from review.inputs import load
    import io
    import sys
    patches, sources, mails, notes = [], [], [], []
    for source in inputs:
        raw = None
        stream = None
        if source == "-" and repo is None:
            raw = (stdin or sys.stdin.buffer).read()
            stream = io.BytesIO(raw)
        coll = load(source, repo=repo, stdin=stream)
        notes.extend(getattr(coll, "notes", []) or [])
        ps = [p for p in coll.patches if not getattr(p, "inline", False)]
        if raw is None and len(ps) == 1 and source != "-" and Path(source).is_file():
            try:
                raw = Path(source).read_bytes()
            except OSError:
                raw = None
        for p in ps:
            patches.append(p)
            sources.append(source)
            if raw is not None and len(ps) == 1:
                mails.append(raw.decode("utf-8", "replace").splitlines())
            else:
                mails.append(None)
    return Loaded(patches, sources, mails, notes)


def _patch_ref(p, i: int, n: int, source: str) -> PatchRef:
    msg = getattr(p, "message", None)
    return PatchRef(index=i, total=n, subject=getattr(p, "title", "") or "(no subject)",
                    source=source, msgid=getattr(msg, "msgid", "") if msg else "",
                    commit=getattr(p, "commit", "") or "", label=_label(p))


def _label(p) -> str:
    label = getattr(p, "label", "") or ""
    # a lone "v1" says nothing the subject does not
    return "" if label.startswith("v") and label[1:].isdigit() else label


def make_jobs(loaded: Loaded, tree: str | None) -> list[PatchJob]:
    n = len(loaded.patches)
    extracted: list[tuple[PatchRules | None, str]] = []
    i = 0
    while i < n:  # one series per input
        j = i
        while j < n and loaded.sources[j] == loaded.sources[i]:
            j += 1
        extracted += extract_patches(loaded.patches[i:j], tree)
        i = j
    jobs = []
    for k, (p, src, mail) in enumerate(zip(loaded.patches, loaded.sources, loaded.mail_lines), 1):
        rules, err = extracted[k - 1]
        jobs.append(PatchJob(_patch_ref(p, k, n, src), p, rules, mail, err))
    return jobs


# The jobs of the current run, inherited by forked workers (--workers N).
_JOBS: list[PatchJob] = []
_OPTS: Options | None = None


def _run_one(index: int) -> PatchResult:
    from review.fuzz import search
    from review.verify import verify
    from spec.presets import PRESETS
    job = _JOBS[index]
    return PatchChecker(job, _OPTS, PRESETS, search, verify).run()


def run_jobs(jobs: list[PatchJob], opts: Options, workers: int = 1,
             on_patch: Callable[[PatchResult], None] | None = None) -> list[PatchResult]:
    global _JOBS, _OPTS
    _JOBS, _OPTS = jobs, opts
    if workers <= 1 or len(jobs) <= 1:
        out = []
        for i in range(len(jobs)):
            r = _run_one(i)
            if on_patch:
                on_patch(r)
            out.append(r)
        return out
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    # fork: workers inherit the extracted jobs and the options (rule sets hold
    # closures, which do not pickle); results are plain dataclasses.
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        out = list(pool.map(_run_one, range(len(jobs))))
    if on_patch:
        for r in out:
            on_patch(r)
    return out


def open_database(spec: str | None):
    """--database DIR or redis://HOST:PORT/N -> a hypothesis ExampleDatabase."""
    if not spec:
        return None
    if spec.startswith("redis://"):
        try:
            import redis
            from hypothesis.extra.redis import RedisExampleDatabase
        except ImportError as exc:
            raise InputError(f"{spec}: the redis package is not installed ({exc.name})") from None
        try:
            client = redis.Redis.from_url(spec, socket_connect_timeout=3)
            client.ping()
        except Exception as exc:
            raise InputError(f"{spec}: cannot reach redis ({exc})") from None
        return RedisExampleDatabase(client, key_prefix=b"mmreview-check:")
    from hypothesis.database import DirectoryBasedExampleDatabase
    path = Path(spec)
    if path.exists() and not path.is_dir():
        raise InputError(f"{spec}: not a directory")
    return DirectoryBasedExampleDatabase(str(path))


def default_out_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mmreview" / "check"


def check(inputs: list[str], opts: Options, *, repo: str | None = None, stdin=None,
          workers: int = 1, no_patch_ok: bool = False,
          on_patch: Callable[[PatchResult], None] | None = None) -> tuple[CheckReport, Loaded]:
    loaded = load_inputs(inputs, repo=repo, stdin=stdin)
    if not loaded.patches and not no_patch_ok:
        raise InputError(f"{' '.join(inputs)}: no patch found")
    jobs = make_jobs(loaded, opts.tree)
    results = run_jobs(jobs, opts, workers, on_patch)
    from importlib.metadata import PackageNotFoundError, version
    try:
        v = version("mmreview")
    except PackageNotFoundError:
        v = ""
    report = CheckReport(results, seed=opts.seed, budget=opts.budget,
                         max_examples=opts.max_examples, reference=opts.reference,
                         inputs=list(inputs), tool_version=v)
    return report, loaded


def replay(inputs: list[str], trace_obj: dict, patch_index: int, opts: Options, *,
           repo: str | None = None, stdin=None) -> dict:
    """Replay a trace written by `check` under the rules it names (`<ref>+post`,
    `<ref>+pre` or a preset), re-extracted from the same input; also under the
    other image, so a differential finding shows both sides."""
    from spec.presets import PRESETS
    from spec.run import rules_for, run_trace
    loaded = load_inputs(inputs, repo=repo, stdin=stdin)
    if not 1 <= patch_index <= len(loaded.patches):
        raise InputError(f"--patch {patch_index}: the input has {len(loaded.patches)} patch(es)")
    same = [p for p, src in zip(loaded.patches, loaded.sources)
            if src == loaded.sources[patch_index - 1]]
    rules, err = extract_patches(same, opts.tree)[same.index(loaded.patches[patch_index - 1])]
    if rules is None:
        raise InputError(f"patch {patch_index}: extraction failed ({err})")
    trace = parse_trace(trace_obj)
    ref, _, rest = trace.ruleset.partition("+")
    image, _, key = rest.partition("@")
    if ref not in PRESETS or (rest and image not in ("pre", "post")):
        raise InputError(f"trace: unknown ruleset {trace.ruleset!r} (expected a preset or "
                         "PRESET+post@KEY / PRESET+pre@KEY as check writes them)")
    want = patch_key(loaded.patches[patch_index - 1])
    if key and key != want:
        raise InputError(f"trace: written for another patch (key {key}, patch {patch_index} "
                         f"has {want}); pick the right one with --patch N")
    base = PRESETS[ref]
    sets = {
        ref: base,
        f"{ref}+pre@{want}": base.with_overlay(rules.pre.decisions, rules.pre.assertions,
                                               name=f"{ref}+pre@{want}"),
        f"{ref}+post@{want}": base.with_overlay(rules.post.decisions, rules.post.assertions,
                                                name=f"{ref}+post@{want}"),
    }
    out = {}
    for name, label in ((f"{ref}+post@{want}", f"{ref}+post"), (f"{ref}+pre@{want}", f"{ref}+pre"),
                        (ref, ref)):
        rs = rules_for(trace, name, presets=sets)
        out[label] = run_trace(trace, rs).to_json()
    own = trace.ruleset.split("@")[0]
    return {"trace": trace.ruleset, "runs": out, "violated": bool(out[own]["violations"])}
