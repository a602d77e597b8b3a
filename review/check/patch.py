"""One patch through the check: the quick shortest-trace pass, the fuzzer's searches,
and their results turned into report findings (review/check/run.py is the overview)."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from typing import Callable

from spec.decisions import AssertionRule, RuleSet
from spec.run import run_trace
from spec.trace import format_step, parse_trace

from review.check import era as eras
from review.check import nfc
from review.check.explore import quick, quick_groups
from review.check.extraction_notes import (
    coverage_lines, era_line, extraction_notes, input_warnings, why_not_fuzzed,
)
from review.check.options import (
    QUICK_DEPTH, QUICK_MAX_STATES, QUICK_MIN_SECONDS, QUICK_SHARE, Options, derive_seed,
)
from review.check.overlay import (
    MAX_FREE_ATOMS, OwnedWatch, changed_cases, fired_cases, implicated, overlays, owned_cases,
    valuations, waits_on_unkept,
)
from review.check.place import Placer, point_of
from review.errors import InputError
from review.extract.rules import PatchRules
from review.extract.sources import pre_images_line
from review.finding_ids import CONTRACT_IDS, FINDING_IDS, INVARIANT_IDS
from review.findings import Finding
from review.model import diff_digest
from review.report.types import CheckFinding, PatchRef, PatchResult


# --- one patch ----------------------------------------------------------------------

@dataclass
class PatchJob:
    ref: PatchRef
    patch: object                  # review.model.Patch
    rules: PatchRules | None
    mail_lines: list[str] | None   # the mail as given, for checkpatch's -:N:
    extract_error: str = ""
    era: eras.Era | None = None    # None: chosen from the patch and the options


def _steps_with_results(trace: dict, rules: RuleSet) -> list[str]:
    """Readable steps, each with its result under `rules` when it has a value or was
    refused (`dma_read id=p0 -> 1`)."""
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


def _decorated(ff: Finding, **report) -> CheckFinding:
    """A search's finding as the report gives it (`report`: its id, severity, message,
    mode...), keeping what the search saw."""
    return CheckFinding(step=ff.step, rulesets=ff.rulesets, variant=ff.variant, seed=ff.seed,
                        difference=ff.difference,
                        outcome_differences=list(ff.outcome_differences), **report)


def _planned_searches(n_valuations: int, identical: bool,
                      has_post_decisions: bool) -> list[tuple[str, int]]:
    """(search, valuation index) in the order they run."""
    searches: list[tuple[str, int]] = []
    for vi in range(n_valuations):
        # most telling first: a spent budget drops the informational search.
        # Contract and invariants are searched apart: an invariant usually breaks
        # a step before the contract does, and would hide the contract violation.
        searches.append(("contract", vi))
        searches.append(("invariants", vi))
        if not identical:
            searches.append(("differential", vi))
        if has_post_decisions:
            searches.append(("reference", vi))
    return searches


class PatchChecker:
    """Runs every search of one patch and turns the fuzzer's findings into report
    findings. `search` is review.fuzz.search.search (injectable for tests of the plumbing)."""

    def __init__(self, job: PatchJob, opts: Options, presets: dict[str, RuleSet],
                 search: Callable, verify: Callable | None = None):
        self.job = job
        self.opts = opts
        self.presets = presets
        self.search = search
        self.verify = verify
        self.era = job.era or eras.choose(job.patch, override=opts.era, tree=opts.tree, repo=opts.repo)
        self.result = PatchResult(job.ref, era=self.era.name, era_why=self.era.why)
        self.placer = Placer(job.patch, job.rules, job.mail_lines)
        self.deadline = 0.0
        self.owned: list = []       # the patch's own cases (overlay.owned_cases)
        self.differs: set[str] = set()  # decision points whose truth tables differ

    # -- helpers
    def _write_trace(self, f: CheckFinding, trace: dict, ruleset: str, about: str) -> None:
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

    def _rulesets(self, rules: PatchRules, valuation: dict,
                  preset: str | None = None) -> tuple[RuleSet, RuleSet, RuleSet]:
        """(preset, preset+pre, preset+post) under `valuation`; the preset is the
        patch's era unless named (the reference, for the reference search)."""
        return overlays(self.presets[preset or self.era.name], rules, diff_digest(self.job.patch),
                        valuation)

    # -- the run
    def run(self) -> PatchResult:
        t0 = time.monotonic()
        job, res = self.job, self.result
        patch = job.patch
        claim = nfc.find_claim(getattr(patch, "commit_message", "") or "", getattr(patch, "title", "") or "")
        if claim:
            res.nfc_claim = claim.text
        res.warnings = input_warnings(patch, job.rules)
        if job.extract_error:
            res.skipped = f"extraction failed: {job.extract_error}"
            return res
        rules = job.rules
        res.coverage = rules.coverage.line()
        res.touched = [asdict(t) for t in rules.coverage.touched]
        found, checked = extraction_notes(rules)
        for f in found:
            if f.id != "flag-alias-use":    # a use elsewhere in the tree has no place in the mail
                self.placer.locate_in_mail(f)
        res.findings += found
        res.checked += checked
        if rules.told_sources():
            res.checked.append(pre_images_line(rules.told_sources()))
        res.checked += coverage_lines(rules)
        if rules.empty:
            res.skipped = why_not_fuzzed(rules)
            if claim:
                self._judge_claim(rules)
            res.seconds = time.monotonic() - t0
            return res
        line = era_line(self.presets[self.era.name], rules)
        if line:
            res.checked.append(f"era {self.era.name}: {line}")
        self._run_searches(rules, claim)
        if self.opts.exhaustive and self.verify is not None:
            self._run_exhaustive(rules)
        if claim:
            self._judge_claim(rules)
        res.seconds = time.monotonic() - t0
        return res

    def _judge_claim(self, rules: PatchRules) -> None:
        """The verdict on the patch's claim of no functional change (review/check/nfc.py)."""
        res = self.result
        added, removed = changed_cases(rules.pre, rules.post)
        assertions_changed = any(isinstance(x, AssertionRule) for x in added + removed)
        verdict = nfc.judge(rules.comparisons(), assertions_changed, empty=rules.empty,
                            contradicted=any(f.id == "nfc-claim" for f in res.findings),
                            whole=not (rules.windows or rules.partial))
        res.nfc_verdict, res.nfc_why = verdict.verdict, verdict.why

    def _run_searches(self, rules: PatchRules, claim) -> None:
        opts, res = self.opts, self.result
        atoms = rules.free_atoms()
        vals = valuations(atoms, derive_seed(opts.seed, self.job.ref.index, "valuations"))
        # pre and post decisions agree for every context (their truth tables are
        # equal): no observable difference is possible, so no differential search
        identical = not rules.changed_points()
        added, removed = changed_cases(rules.pre, rules.post)
        if identical and not any(isinstance(c, AssertionRule) for c in added + removed):
            # Every decision has the same truth table before and after, and no
            # assertion changed: the two overlays make the same choice in every
            # state, so no trace can tell them apart and anything a search found
            # would be the era's own, not this patch's.
            res.modes = ["nfc"] if claim else []
            res.checked.append("pre- and post-image rules are equal for every context (truth tables) "
                               "and no assertion changed: every trace runs the same under both, so "
                               "nothing is searched")
            return
        has_post_decisions = bool(rules.post.decisions)
        searches = _planned_searches(len(vals), identical, has_post_decisions)
        modes = ["invariants"] + (["reference"] if has_post_decisions else [])
        modes += ["differential"] if not identical else []
        if claim:
            modes.append("nfc")
        res.modes = modes
        self.deadline = time.monotonic() + opts.budget
        # a patch claiming no functional change leaves every case as it was: the
        # pre-image's violations stay the pre-image's (its claim gets its own verdict)
        self.owned = [] if claim else owned_cases(rules, added)
        self.differs = {p for p, c in rules.comparisons().items() if c.verdict == "differs"}
        quick_found = self._run_quick(rules, vals, identical, claim, added, removed)
        counts, traces = self._run_fuzzer(searches, rules, vals, claim, added, removed,
                                          quick_found)
        self._account(atoms, len(vals), counts, traces, identical)
        res.examples = sum(traces.values())

    def _run_fuzzer(self, searches, rules, vals, claim, added, removed,
                    quick_found) -> tuple[dict[str, int], dict[str, int]]:
        """The fuzzer's searches, sharing what is left of the budget. A finding joins
        the result unless one with its id and place is there already. Returns the
        searches run and the traces they ran, per kind of search."""
        per_search = self.opts.budget / max(1, len(searches))
        # the two halves of the invariants search share its line in the report
        reported = {k for f in quick_found for k in _keys(f)}
        counts: dict[str, int] = {}
        traces: dict[str, int] = {}
        for n, (mode, vi) in enumerate(searches):
            valuation = vals[vi]
            # the reference search lays the rules over the reference, the others over the era
            base, pre, post = self._rulesets(rules, valuation,
                                             self.opts.reference if mode == "reference" else None)
            # spread what is left over the searches still to run
            budget = max(0.05, min(self._budget_left() / max(1, len(searches) - n), per_search * 2))
            seed = derive_seed(self.opts.seed, self.job.ref.index, mode, vi)
            got, examples = self._fuzz(mode, base, pre, post, budget, seed)
            kind = "invariants" if mode == "contract" else mode
            traces[kind] = traces.get(kind, 0) + examples
            counts[kind] = counts.get(kind, 0) + 1
            for ff in got:
                f = self._convert(ff, kind, valuation, pre, post, added, removed, claim)
                if f is None or reported & _keys(f):
                    continue
                reported |= _keys(f)
                self.result.findings.append(f)
        return counts, traces

    def _fuzz(self, mode: str, base: RuleSet, pre: RuleSet, post: RuleSet, budget: float,
              seed: int) -> tuple[list[Finding], int]:
        """One search of the fuzzer: (what it found, the traces it ran)."""
        progress: dict = {}
        common = dict(max_examples=self.opts.max_examples, budget=budget, seed=seed,
                      database=self.opts.database, on_progress=progress.update)
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
        return got, int(progress.get("examples", 0))

    def _account(self, atoms: list[str], n_valuations: int, counts: dict[str, int],
                 traces: dict[str, int], identical: bool) -> None:
        """What the searches covered, in the report's "checked" lines."""
        res = self.result
        if atoms:
            names = ", ".join(nfc.atom_name(a) for a in atoms[:2]) + (", ..." if len(atoms) > 2 else "")
            res.checked.append(f"unmodelled atoms ({len(atoms)}: {names}): {n_valuations} valuations "
                               f"({'all' if len(atoms) <= MAX_FREE_ATOMS else 'sampled'})")
        what = {"invariants": "post-image rules vs contract and invariants",
                "reference": f"post-image rules vs reference `{self.opts.reference}`",
                "differential": "pre- vs post-image rules"}
        for mode in ("invariants", "reference", "differential"):
            if mode in counts:
                res.checked.append(f"{what[mode]}: {counts[mode]} search(es), "
                                   f"{traces.get(mode, 0)} traces run")
        if identical:
            res.checked.append("pre- and post-image decision rules are equivalent for every "
                               "context (truth tables): no behaviour change possible")

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

    def _run_quick(self, rules, vals, identical, claim, added, removed) -> list[CheckFinding]:
        """Shortest traces first (review/check/explore.py): every trace of up to
        QUICK_DEPTH steps over the operations that reach what the patch touches,
        within a share of the budget; the fuzzer then searches deeper. Contract and
        invariants share one pass (one search, a shortest trace for each); pre/post
        differences need a model of their own."""
        points = self._points(rules)
        out: list[CheckFinding] = []
        passes = ["introduced"] + ([] if identical else ["differential"])
        # every valuation gets the fuzzer; the bounded passes take the first two
        # (all atoms false, all true when there are several)
        jobs = [(valuation, mode) for valuation in vals[:2] for mode in passes]
        share = self.opts.budget * QUICK_SHARE / max(1, len(jobs))
        verdicts: dict[str, list[str]] = {"contract": [], "invariants": [], "pre/post": []}
        alphabet = ""
        for valuation, mode in jobs:
            _, pre, post = self._rulesets(rules, valuation)
            # States bound each pass (the same result on any machine); the clock
            # only stops a pass on a machine too slow for its share.
            deadline = time.monotonic() + max(share, min(QUICK_MIN_SECONDS, self.opts.budget / 2))
            try:
                got, said, alphabet = self._quick_pass(rules, points, pre, post, mode, deadline)
            except Exception as exc:  # the engine refusing a model it cannot key soundly
                self.result.checked.append(f"shortest-trace pass not run: {type(exc).__name__}: {exc}")
                break
            for name, verdict in said.items():
                verdicts[name].append(verdict)
            for ff in got:
                f = self._convert(ff, "invariants" if mode == "introduced" else mode,
                                  valuation, pre, post, added, removed, claim)
                if f is not None and not any(_keys(x) & _keys(f) for x in out):
                    out.append(f)
        # a claim of no functional change is what the reviewer asked about: its verdict first
        order = ["pre/post", "contract", "invariants"] if claim else ["contract", "invariants", "pre/post"]
        # the same verdict under both valuations is said once
        said_once = [f"{name}: {v}" for name in order for v in dict.fromkeys(verdicts[name])]
        if said_once:
            self.result.checked.append(f"shortest traces to depth {QUICK_DEPTH}, post-image beside "
                                       f"pre-image rules, over {alphabet}: " + "; ".join(said_once))
        self.result.findings.extend(out)
        return out

    def _quick_pass(self, rules, points, pre, post, mode, deadline):
        """One shortest-trace pass: (findings, verdict per group, the alphabet)."""
        if mode == "differential":
            got, summary = quick(post, pre, points, depth=QUICK_DEPTH,
                                 clauses=("observable-difference",), mode=mode, deadline=deadline,
                                 max_findings=1, max_states=QUICK_MAX_STATES)
            verdict = summary.split(", ", 1)[0] if got else summary.split(" (", 1)[0]
            return got, {"pre/post": verdict}, summary.rsplit("), ", 1)[-1]
        # the patch's own cases: their violations are its own, whatever the pre-image did
        watch = OwnedWatch(post, rules.post, self.owned) if self.owned else None
        return quick_groups(post, pre, points, depth=QUICK_DEPTH,
                            groups={"contract": CONTRACT_IDS, "invariants": INVARIANT_IDS},
                            deadline=deadline, max_states=QUICK_MAX_STATES, watch=watch)

    def _convert(self, ff: Finding, mode, valuation, pre, post, added,
                 removed, claim) -> CheckFinding | None:
        """A search's finding -> a report finding (None: not one the report shows)."""
        trace = dict(ff.trace)
        if valuation:
            trace["free"] = dict(valuation)
        if mode == "invariants":
            return self._violation(ff, trace, pre, post, added, removed)
        if ff.id != "observable-difference":
            return None  # outcome-only differences are not observable: not reported
        return self._difference(ff, trace, mode, post, added, removed, claim)

    def _violation(self, ff: Finding, trace: dict, pre: RuleSet, post: RuleSet, added,
                   removed) -> CheckFinding:
        """A clause the post-image rules break: its default severity, unless the
        pre-image rules break it on the same trace too and none of the patch's own
        cases decided a step of it (docs/check.md, "Whose violation is it?")."""
        rules = self.job.rules
        fid = ff.id
        sev = FINDING_IDS[fid].severity
        rule = None
        if fid == "patch-assertion":
            rule = next((a for a in rules.post.assertions if _names_assertion(a, ff.message)),
                        rules.post.assertions[0] if rules.post.assertions else None)
        if rule is None:
            rule = implicated(trace, post, rules.post, added, upto=ff.step)
        fired = fired_cases(trace, post, rules.post, ff.step)
        if rule is None and fired:
            rule = fired[-1]    # the default of the patch's rule decided
        message = ff.message
        unkept = waits_on_unkept(fid, fired, post)
        if unkept:
            # the fault GUP asks for cannot set what the rule waits for: not in this era
            sev = "note"
            message += (f" (the patch's rule reads {', '.join(unkept)}, which the era "
                        f"{self.era.name} does not keep: no fault can change it there, so the "
                        f"stall is the era's, not this patch's)")
        # Did the pre-image rules break the same clause on this trace? Then the
        # patch did not introduce it: a note, not a failure; unless the patch's own
        # rule decided a step of the trace: it still breaks a case it decides.
        try:
            pre_rep = run_trace(parse_trace(trace), pre)
        except Exception:  # a trace the pre-image cannot run: nothing to excuse it
            pre_rep = None
        if pre_rep is not None and fid in pre_rep.clauses and not unkept:
            owned = {id(c) for c in self.owned}
            if any(id(c) in owned for c in fired):
                message += (" (the pre-image rules break it on this trace too, and the patch's own "
                            "rule decides this case: it does not fix it)")
            else:
                sev = "note"
                message += " (the pre-image rules break it on this trace too: not introduced by this patch)"
        f = _decorated(ff, severity=sev, id=fid, message=message, mode="invariants")
        self.placer.place(f, rule, added, removed)
        self._write_trace(f, trace, post.name, f"{fid}: {message}")
        f.steps = _steps_with_results(f.trace, post)
        return f

    def _difference(self, ff: Finding, trace: dict, mode: str, post: RuleSet, added, removed,
                    claim) -> CheckFinding:
        """An observable difference of the post-image rules from the reference
        (mode "reference") or from the pre-image rules: named for what it means to
        the patch (review/finding_ids.py)."""
        rules = self.job.rules
        diff = ff.difference or {}
        detail = ""
        if diff:
            detail = (f"step {diff.get('step')} {diff.get('op', '')}: "
                      f"{'reference' if mode == 'reference' else 'pre-image'} "
                      f"{_result_text(diff.get('reference'))}, post-image {_result_text(diff.get('patched'))}")
        if mode == "reference":
            changed = [c for d in rules.post.decisions for c in d.cases]
            rule = implicated(trace, post, rules.post, changed, upto=diff.get("step"))
            f = _decorated(ff, severity="note", id="reference-difference",
                           message=f"post-image rules differ observably from "
                                   f"`{self.opts.reference}`: {ff.message}",
                           mode="reference", detail=detail)
            self.placer.place(f, rule)
        else:
            rule = implicated(trace, post, rules.post, added, upto=diff.get("step"))
            # a claim is contradicted only where the truth tables differ; on an
            # undecided point the difference rests on values of unmodelled atoms
            if claim and rule is not None and point_of(rule, rules) in self.differs:
                f = _decorated(ff, severity="warning", id="nfc-claim",
                               message=f"claims \"{claim.text}\" but pre- and post-image "
                                       f"differ: {ff.message}",
                               mode="nfc", detail=detail)
            else:
                why = " (for some values of unmodelled atoms only)" if claim else ""
                f = _decorated(ff, severity="note", id="behaviour-change",
                               message=f"pre- and post-image rules differ observably{why}: {ff.message}",
                               mode="differential", detail=detail)
            self.placer.place(f, rule, added, removed)
        self._write_trace(f, trace, post.name, f"{f.id}: {f.message}")
        f.steps = _steps_with_results(f.trace, post)
        return f

    def _run_exhaustive(self, rules: PatchRules) -> None:
        """--exhaustive DEPTH: every trace up to DEPTH steps over the whole alphabet
        (review/verify's bounds: 2 processes, 1 page, 1 pin), no time limit: a
        definite verdict within the bound, for the clauses the patch introduces."""
        depth = self.opts.exhaustive
        _, pre, post = self._rulesets(rules, {})
        added, removed = changed_cases(rules.pre, rules.post)
        watch = OwnedWatch(post, rules.post, self.owned) if self.owned else None
        try:
            got, summary = quick(post, pre, self._points(rules), depth=depth,
                                 clauses=CONTRACT_IDS + INVARIANT_IDS, mode="introduced",
                                 deadline=None, full_alphabet=True, watch=watch)
        except Exception as exc:
            raise InputError(f"--exhaustive: the exploration engine refused: {exc}") from None
        self.result.checked.append(f"exhaustive to depth {depth}: {summary}")
        for ff in got:
            f = self._convert(ff, "invariants", {}, pre, post, added, removed, None)
            if f is not None and not any(_keys(x) & _keys(f) for x in self.result.findings):
                f.message += " (shortest trace, exhaustive search)"
                self.result.findings.append(f)


def _keys(f: CheckFinding) -> set[tuple]:
    """A finding is reported once: one per id and place, and one per id and trace
    (the same steps under two valuations may implicate two rules)."""
    return {(f.id, f.where()), (f.id, tuple(f.steps))}


def _names_assertion(a, message: str) -> bool:
    """Does a patch-assertion violation's message name this assertion? (spec/run.py
    writes its `file:line`.)"""
    p = a.provenance
    return p is not None and f"{p.file}:{p.line}" in message


def _result_text(r) -> str:
    if not isinstance(r, dict):
        return str(r)
    if r.get("status", "ok") != "ok":
        return str(r.get("status"))
    return f"reads {r.get('value')}" if "value" in r else "ok"

