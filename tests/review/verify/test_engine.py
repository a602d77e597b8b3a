"""The breadth-first engine of mmreview verify (review/verify/search.py `explore`) on a
toy model whose answers are known by hand."""
from __future__ import annotations

from review.verify.model import Bounds
from review.verify.search import explore


class Counters:
    """Two counters below `limit`; steps add one to either or reset both. A violation
    whenever a == 3 and b == 2: the shortest violating sequence has 5 steps."""

    def __init__(self, limit=6, bad=(3, 2)):
        self.limit = limit
        self.bad = bad
        self.expanded = 0

    def initial(self):
        return (0, 0), [{"op": "setup"}], []

    def successors(self, state):
        self.expanded += 1
        a, b = state
        for name, nxt in (("a", (a + 1, b)), ("b", (a, b + 1)), ("reset", (0, 0))):
            if max(nxt) >= self.limit:
                yield {"op": name}, None, ()
                continue
            bad = ["boom"] if nxt == self.bad else []
            yield {"op": name}, nxt, bad

    def key(self, state):
        return state


def test_engine_returns_a_shortest_violating_sequence():
    r = explore(Counters(), "toy", Bounds(depth=10))
    assert r.status == "violation"
    assert r.trace[0] == {"op": "setup"}
    ops = [s["op"] for s in r.trace[1:]]
    assert len(ops) == 5 and ops.count("a") == 3 and ops.count("b") == 2
    assert r.depth_verified == 4  # every sequence of 4 steps was clean


def test_engine_verifies_one_step_short_of_the_violation():
    r = explore(Counters(), "toy", Bounds(depth=4))
    assert r.status == "verified" and r.ok and r.depth_verified == 4
    # distinct (a, b) with a + b <= 4, counted per level
    assert r.states_per_depth == [1, 2, 3, 4, 5]
    assert r.states == 15
    assert "verified up to depth 4 (15 distinct states)" == r.summary()


def test_engine_reports_exhaustion_when_no_new_state_appears():
    r = explore(Counters(limit=2, bad=None), "toy", Bounds(depth=50))
    assert r.status == "exhausted" and r.ok
    assert r.states == 4 and r.depth_verified == 3


def test_engine_stops_at_the_state_budget_with_the_depth_reached():
    r = explore(Counters(), "toy", Bounds(depth=4, max_states=7))
    assert r.status == "max_states" and not r.ok and not r.complete
    assert r.depth_verified == 2 and r.states == 7
    assert "state budget of 7 reached: verified up to depth 2 only" in r.summary()


def test_engine_stops_when_asked_and_reports_progress():
    calls = []
    model = Counters(limit=50, bad=None)
    r = explore(model, "toy", Bounds(depth=40), on_progress=calls.append,
                should_stop=lambda: model.expanded >= 30, progress_every=0.0)
    assert r.status == "stopped"
    assert 0 < r.depth_verified < 40
    assert calls and calls[-1].states == r.states
