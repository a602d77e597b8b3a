"""Malformed inputs through `mmreview show`, `extract`, `check` and `replay`: no
traceback, a failure is one line on stderr naming the input with exit 2, and nothing
is written but the declared outputs (tests/inputs_fuzz/harness.py says how). In
process with more examples; as the `mmreview` command, slower, with few.
bench/input_fuzz.py runs the same properties for as long as one likes."""
from __future__ import annotations

import pytest
from hypothesis import given, settings

from tests.inputs_fuzz.harness import TARGETS, describe, run

IN_PROCESS_EXAMPLES = {"show": 60, "extract": 40, "check": 30, "replay": 80}
CLI_EXAMPLES = 6


def _property(name: str, cli: bool):
    target = TARGETS[name]

    @given(target.inputs())
    def prop(data: bytes) -> None:
        outcome = run(target, data, cli=cli)
        assert not outcome.problems, describe(outcome)
    return prop


@pytest.mark.parametrize("name", list(TARGETS))
def test_in_process_malformed_input_fails_cleanly(name):
    settings(max_examples=IN_PROCESS_EXAMPLES[name])(_property(name, cli=False))()


@pytest.mark.parametrize("name", list(TARGETS))
def test_command_line_malformed_input_fails_cleanly(name):
    settings(max_examples=CLI_EXAMPLES)(_property(name, cli=True))()
