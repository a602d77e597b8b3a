"""review.check.run.check_patch, the one check of one patch that `mmreview check` and
the TUI both run: progress as it goes, stopping on request, and review.check.replay
giving back the finding's violation."""
from __future__ import annotations

from pathlib import Path

import pytest

from spec.trace import parse_trace

from review.check.replay import replay_trace
from review.check.run import Options, check_patch, extract_patches, load_inputs, make_jobs
from review.errors import InputError

ROOT = Path(__file__).resolve().parents[3]
DROP_PIN_CHECK = ROOT / "fixtures" / "patches" / "0001-mm-rmap-share-exclusive-pages-at-fork.patch"
TREE = str(ROOT / "fixtures" / "ctree")


@pytest.fixture(scope="module")
def job():
    (only,) = make_jobs(load_inputs([str(DROP_PIN_CHECK)]), TREE)
    return only


def test_progress_reports_the_findings_so_far_and_the_traces_are_counted(job):
    seen: list[int] = []
    result = check_patch(job, Options(budget=1.0, max_examples=100),
                         on_progress=lambda partial: seen.append(len(partial.findings)))
    assert seen and seen == sorted(seen)         # findings only accumulate
    assert seen[-1] <= len(result.findings)
    assert any(f.id == "pin-coherence" for f in result.findings)
    # the caller's progress hook does not take the check's own count of traces away
    runs = [c for c in result.checked if "search(es)" in c]
    assert runs and all(" 0 traces run" not in c for c in runs)


def test_a_stop_request_ends_the_searches(job):
    result = check_patch(job, Options(budget=30.0, max_examples=100_000), should_stop=lambda: True)
    runs = [c for c in result.checked if "search(es)" in c]
    assert runs and all(c.endswith(" 0 traces run") for c in runs)


def test_replay_gives_the_violation_back_and_refuses_foreign_rule_sets(job):
    result = check_patch(job, Options(budget=1.0, max_examples=100))
    f = next(f for f in result.findings if f.id == "pin-coherence")
    (rules, _), = extract_patches([job.patch], TREE)
    replay = replay_trace(parse_trace(f.trace), job.patch, rules)
    assert replay.violated and replay.own == "current+post"
    assert replay.violation_step("pin-coherence") is not None
    assert replay.compared_run("pin-coherence") is None
    assert replay.compared_run("nfc-claim") == "current+pre"
    assert replay.compared_run("reference-difference") == "current"
    assert replay.first_difference("current+pre") is not None   # the patch changed behaviour
    with pytest.raises(InputError, match="unknown ruleset"):
        replay_trace(parse_trace(dict(f.trace, ruleset="v9.9+post")), job.patch, rules)
