"""The long input-fuzzing run (bench/input_fuzz.py): progress while it runs, and the
example database it keeps between runs, one directory per target."""
from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import input_fuzz  # noqa: E402
from tests.inputs_fuzz.harness import Outcome  # noqa: E402


def test_a_run_reports_progress_and_counts_its_examples(tmp_path, capsys):
    tally, error = input_fuzz.fuzz("replay", examples=6, seed_value=1, cli=False,
                                   db=tmp_path / "db", every=3)
    assert error is None and tally.examples == 6 and tally.tracebacks == 0
    progress = [l for l in capsys.readouterr().out.splitlines() if l.startswith("  replay: ")]
    assert progress == [l for l in progress if "0 tracebacks, 0 failures" in l] and len(progress) == 2


def test_a_failing_input_is_kept_in_the_database_and_tried_first_next_time(tmp_path, monkeypatch):
    # a stand-in command that fails on every input: the property fails, hypothesis
    # stores the minimal input under db/<target>, and the next run starts with it
    seen: list[bytes] = []

    def failing(target, data, cli=False):
        seen.append(data)
        return Outcome(code=1, stdout="", stderr="boom", seconds=0.0, problems=["exit 1, not 2"])
    monkeypatch.setattr(input_fuzz, "run", failing)
    tally, error = input_fuzz.fuzz("replay", examples=20, seed_value=1, cli=False,
                                   db=tmp_path / "db", every=0)
    assert error is not None and tally.failures >= 1
    assert any((tmp_path / "db" / "replay").rglob("*"))
    minimal = tally.last_failure[0]
    seen.clear()
    input_fuzz.fuzz("replay", examples=20, seed_value=2, cli=False, db=tmp_path / "db", every=0)
    assert seen[0] == minimal


def test_the_slowest_input_is_kept_to_look_at(monkeypatch):
    times = iter([0.1, 0.7, 0.2, 0.3] * 5)

    def timed(target, data, cli=False):
        return Outcome(code=0, stdout="", stderr="", seconds=next(times), problems=[])
    monkeypatch.setattr(input_fuzz, "run", timed)
    seen: list[bytes] = []
    real_add = input_fuzz.Tally.add

    def add(self, data, o):
        seen.append((o.seconds, data))
        real_add(self, data, o)
    monkeypatch.setattr(input_fuzz.Tally, "add", add)
    tally, error = input_fuzz.fuzz("replay", examples=4, seed_value=1, cli=False, every=0)
    assert error is None and tally.slowest == max(s for s, _ in seen)
    assert tally.slowest_input == max(seen, key=lambda x: x[0])[1]
    assert tally.slowest_size == len(tally.slowest_input)
