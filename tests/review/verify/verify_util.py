"""Shared by the tests of mmreview verify: operation alphabets cut to one bug family,
sessions after a few steps, and replays of the traces the search returns."""
from __future__ import annotations

from spec.presets import PRESETS
from spec.run import run_trace
from spec.trace import parse_trace, step

from review.verify import canon
from review.verify.model import ADVICES, Bounds, SpecModel

# The CVE-2020-29374 family needs a FOLL_GET reference, fork, writes on both sides of
# the fork and a device read; the alphabet is cut to those ops so that depth 6 stays
# small, and the search looks for that clause only.
CVE_OPS = ("write", "fork", "get", "put", "munmap", "exit", "dma_read", "read")
# The v5.9 R/O pin incoherence: short-term pins only, so that the R/O pin of
# never-written memory (allowed to go stale) is not what is found.
PIN_OPS = ("write", "fork", "pin", "unpin", "read", "dma_read", "exit")
NO_THP_ADVICE = tuple(a for a in ADVICES if a not in ("hugepage", "nohugepage"))


def replayed_clauses(result, trace=None):
    """The clauses `mmreview replay` finds broken by a replay trace (by default the
    result's own; a finding's trace is one already)."""
    trace = result.replay_trace() if trace is None else trace
    return run_trace(parse_trace(trace), PRESETS[result.rules]).clauses


def session_after(*steps, rules="current"):
    """(model, session) after the setup and `steps` (each must succeed cleanly), with
    two small pages."""
    m = SpecModel(PRESETS[rules], Bounds(depth=1, pages=2))
    state, _, _ = m.initial()
    session = state[0]
    for s in steps:
        status, violations = canon.apply(session, step(**s))
        assert status == "ok" and not violations, (s, status, violations)
    return m, session


def key_after(bounds, *steps):
    """The key of the state after the setup of `bounds` and `steps` (each must succeed)."""
    m = SpecModel(PRESETS["current"], bounds)
    (session, driver), _, _ = m.initial()
    for s in steps:
        status, _v = canon.apply(session, step(**s))
        assert status == "ok", (s, status)
    return m.key((session, driver))
