"""The check's vocabulary around extracted rules: budgets and defaults, valuations of
unmodelled atoms, per-patch seeds and rule-set names, which rules a patch changed,
and which extracted rule a trace implicates (review/check/run.py is the overview)."""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from spec import expr as E
from spec.decisions import AssertionRule, ExtractedDecision, GuardedOutcome, RuleSet
from spec.trace import parse_trace

from review.extract.rules import ImageRules, PatchRules

MAX_FREE_ATOMS = 3      # 2**3 valuations explored exhaustively; more get sampled
SAMPLED_VALUATIONS = 4  # all-true, all-false and two seeded random ones
DEFAULT_BUDGET = 3.0    # seconds per patch: 15 patches in < 60 s on 2 cores
DEFAULT_MAX_EXAMPLES = 400
QUICK_DEPTH = 5         # the quick exhaustive pass (review/check/explore.py)
QUICK_SHARE = 0.7       # of the budget, at most, before the fuzzer takes over
QUICK_MAX_STATES = 5000 # per pass: the bound that decides, so that results repeat
QUICK_MIN_SECONDS = 1.5 # per pass, whatever the budget: the clock is only a safety net


# --- what extraction gives us, per patch ------------------------------------------
#
# review.extract.rules.PatchRules: pre/post ImageRules (decisions, assertions), bound,
# unbound, unmodelled (atom, file, line, image), partial (function, file, line, why),
# free_atoms(), changed_points() (decision points whose rules differ in meaning).

# --- options ------------------------------------------------------------------------

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

