"""Malformed inputs through `mmreview show`, `extract`, `check` and `replay`: no
traceback, a failure is one line on stderr naming the input with exit 2, and nothing
is written but the declared outputs (tests/inputs_fuzz/harness.py says how). In
process with more examples; as the `mmreview` command, slower, with few.
bench/input_fuzz.py runs the same properties for as long as one likes."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.inputs_fuzz.harness import TARGETS, describe, run

# about 40 s in all on two cores: a `mmreview check` subprocess alone takes a second
IN_PROCESS_EXAMPLES = {"show": 40, "extract": 25, "check": 15, "replay": 60}
CLI_EXAMPLES = {"show": 4, "extract": 3, "check": 3, "replay": 4}


def _property(name: str, cli: bool):
    target = TARGETS[name]

    @given(target.inputs())
    def prop(data: bytes) -> None:
        outcome = run(target, data, cli=cli)
        assert not outcome.problems, describe(outcome)
    return prop


@pytest.mark.parametrize("name", list(TARGETS))
def test_in_process_malformed_input_fails_cleanly(name):
    # `check` runs its own hypothesis search in this process when an input reaches the
    # fuzzer: a nested @given by design (bench/input_fuzz.py suppresses it too)
    settings(max_examples=IN_PROCESS_EXAMPLES[name],
             suppress_health_check=[HealthCheck.nested_given])(_property(name, cli=False))()


@pytest.mark.parametrize("name", list(TARGETS))
def test_command_line_malformed_input_fails_cleanly(name):
    settings(max_examples=CLI_EXAMPLES[name])(_property(name, cli=True))()
