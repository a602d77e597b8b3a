"""A patch's extracted rules laid over a preset: the rule sets a check runs
(`<ref>+pre@KEY`, `<ref>+post@KEY`) under each valuation of the unmodelled atoms, the
rules the patch changed, and which extracted rule decided a trace."""
from __future__ import annotations

import random
from dataclasses import replace

from spec import expr as E
from spec.decisions import AssertionRule, ExtractedDecision, GuardedOutcome, RuleSet
from spec.run import Session
from spec.trace import parse_trace

from review.extract.hunks import is_entry_atom, is_rest_atom
from review.extract.rules import ImageRules, PatchRules

MAX_FREE_ATOMS = 3      # 2**3 valuations explored exhaustively; more get sampled
SAMPLED_VALUATIONS = 4  # all-true, all-false and two seeded random ones


# --- what extraction gives us, per patch ------------------------------------------
#
# review.extract.rules.PatchRules: pre/post ImageRules (decisions, assertions), bound,
# unbound, unmodelled (atom, file, line, image), partial (function, file, line, why),
# free_atoms(), changed_points() (decision points whose rules differ in meaning).

def valuations(atoms: list[str], seed: int) -> list[dict[str, bool]]:
    """Both ways for each unmodelled atom: every combination when there are few,
    else all-true, all-false and seeded random ones. The atom a hunk's window is
    entered under is always true: where the window is not reached, the pre- and
    post-image both leave the decision to the era, and nothing can differ."""
    entries = {a: True for a in atoms if is_entry_atom(a)}
    atoms = [a for a in atoms if a not in entries]
    return [{**entries, **v} for v in _both_ways(atoms, seed)]


def _both_ways(atoms: list[str], seed: int) -> list[dict[str, bool]]:
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


def overlay_name(reference: str, image: str, key: str) -> str:
    """`current+post@KEY`: KEY (review.model.diff_digest) ties it to one patch."""
    return f"{reference}+{image}@{key}"


def split_overlay_name(name: str) -> tuple[str, str, str]:
    """(reference, image, key) of an overlay name; ("current", "", "") for a preset."""
    reference, _, rest = name.partition("+")
    image, _, key = rest.partition("@")
    return reference, image, key


def overlays(preset: RuleSet, rules: PatchRules, key: str,
             valuation: dict[str, bool]) -> tuple[RuleSet, RuleSet, RuleSet]:
    """(the preset, `<preset>+pre@key`, `<preset>+post@key`), all under `valuation`."""
    base = preset.with_overlay(free=valuation, name=preset.name) if valuation else preset
    pre = rules.overlay(preset, "pre", valuation, name=overlay_name(preset.name, "pre", key))
    post = rules.overlay(preset, "post", valuation, name=overlay_name(preset.name, "post", key))
    return base, pre, post


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


def changed_atoms(added: list, removed: list) -> set[str]:
    """The unmodelled atoms the patch's change depends on: those in the guards and
    conditions of the cases it adds or removes. An atom only in cases both images
    share is context the patch left as it was."""
    names: set[str] = set()
    for case in added + removed:
        cond = case.condition if isinstance(case, AssertionRule) else case.guard
        names |= E.free_atoms(cond)
    return names


def owned_cases(rules: PatchRules, added: list) -> list:
    """What the patch decides anew, at every decision point whose pre- and post-image
    rules are not proved equal: the post-image guarded outcomes it added (not in the
    pre-image, by meaning), and its rule's default (an ExtractedDecision stands for its
    default), which now takes every context the new cases leave. A violation on a trace
    one of them decided is the patch's own, even when the pre-image breaks the same
    clause: the patch wrote the rule for that case, and its rule still breaks it
    (docs/check.md, "Whose violation is it?")."""
    changed = set(rules.changed_points())
    fresh = {id(c) for c in added}
    out: list = []
    for d in rules.post.decisions:
        if d.point in changed:
            # a case that holds only when the unseen rest of the function decides is
            # that code's choice, which the patch neither shows nor changes
            out += [c for c in d.cases if id(c) in fresh
                    and not any(is_rest_atom(a) for a in E.free_atoms(c.guard))]
            out += [d] if d.default is not None else []
    return out


# --- which rule a trace implicates --------------------------------------------------

class _Recorder:
    """Wraps a rule set's decisions to record which extracted case decided each ask:
    the GuardedOutcome, or the ExtractedDecision itself when its default did."""

    def __init__(self, rules: RuleSet, image: ImageRules):
        self.fired: list[tuple[int, object]] = []   # (step index, case or decision)
        self.step = 0
        decide = dict(rules.decide)
        valuation = dict(rules.free)
        for d in image.decisions:
            decide[d.point] = self._wrap(d, decide[d.point], valuation)
        self.rules = replace(rules, decide=decide)

    def _wrap(self, d: ExtractedDecision, inner, valuation):
        def decide(ctx):
            for c in d.cases:
                if E.evaluate(c.guard, ctx, valuation):
                    self.fired.append((self.step, c))
                    break
            else:
                if d.default is not None:
                    self.fired.append((self.step, d))
            return inner(ctx)
        return decide


class OwnedWatch:
    """A rule set whose extracted decisions say whether one of the patch's own cases
    (owned_cases) decided since the last reset(): the quick pass asks after each step."""

    def __init__(self, rules: RuleSet, image: ImageRules, owned: list):
        self._recorder = _Recorder(rules, image)
        self.rules = self._recorder.rules
        self._owned = {id(c) for c in owned}

    def reset(self) -> None:
        self._recorder.fired.clear()

    def hit(self) -> bool:
        return any(id(c) in self._owned for _, c in self._recorder.fired)


def fired_cases(trace: dict, rules: RuleSet, image: ImageRules, upto: int | None = None) -> list:
    """The extracted cases of `image` that decided the steps of `trace` up to `upto`,
    in order (an ExtractedDecision where its default decided)."""
    rec = _Recorder(rules, image)
    session = Session(rec.rules)
    try:
        steps = parse_trace(trace).steps
        for i, s in enumerate(steps):
            if upto is not None and i > upto:
                break
            rec.step = i
            session.step(s)
    except Exception:  # a trace the rules cannot replay: what fired until then
        pass
    return [c for _, c in rec.fired]


def implicated(trace: dict, rules: RuleSet, image: ImageRules, changed: list,
               upto: int | None = None) -> object | None:
    """The extracted rule a trace implicates: the last changed rule that decided a
    step up to `upto`, else the last extracted rule that did; None if none fired."""
    fired = [c for c in fired_cases(trace, rules, image, upto) if isinstance(c, GuardedOutcome)]
    if not fired:
        return None
    changed_ids = {id(c) for c in changed}
    for c in reversed(fired):
        if id(c) in changed_ids:
            return c
    return fired[-1]


def guard_fields(cases) -> set[str]:
    """The context fields (and free atoms) the guards of `cases` read."""
    return {a for c in cases for a in E.atoms(c.guard)}


def read_fields(image: ImageRules) -> set[str]:
    """The context fields an image's extracted decisions read."""
    return guard_fields(c for d in image.decisions for c in d.cases)


def waits_on_unkept(fid: str, fired, rules: RuleSet) -> list[str]:
    """For a GUP stall (gup-progress): the context fields the patch's cases that decided
    the trace read and the rule set's era does not keep (spec.decisions.FIELD_FEATURE):
    a rule waiting on PageAnonExclusive in an era without it (a series that adds the
    flag in one patch and relies on it in a later one, checked on its base's era)."""
    if fid != "gup-progress":
        return []
    return sorted(guard_fields(fired) & rules.unkept_fields())
