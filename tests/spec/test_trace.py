"""The replay format: parsing, defaults, and errors that name the step."""
from __future__ import annotations

import pytest

from spec.errors import TraceError
from spec.trace import OPS, format_step, parse_trace, step


def trace(*steps, **top):
    return {"ruleset": "current", "steps": list(steps), **top}


def error(obj) -> TraceError:
    with pytest.raises(TraceError) as exc:
        parse_trace(obj)
    return exc.value


def test_round_trip_and_defaults():
    t = parse_trace(trace({"op": "mmap", "mm": 0, "vpn": 4, "npages": 4},
                          {"op": "write", "mm": 0, "vpn": 4, "value": 7},
                          {"op": "pin", "mm": 0, "vpn": 4, "write": False,
                           "longterm": True, "id": "p"},
                          free={"x": True}))
    assert t.steps[0].args["thp"] is False          # the one documented default
    assert t.free == {"x": True}
    assert parse_trace(t.to_json()) == t
    assert format_step(t.steps[1]) == "write mm=0 vpn=4 value=7"
    assert format_step(t.steps[0]) == "mmap mm=0 vpn=4 npages=4"


def test_every_op_of_the_design_table_is_known():
    assert set(OPS) == {"mmap", "munmap", "madvise", "mprotect", "read", "write", "fork",
                        "exit", "pin", "get", "unpin", "put", "dma_read", "dma_write",
                        "swapout", "swapin", "migrate", "ksm_merge", "split_pmd",
                        "split_folio"}


def test_ruleset_defaults_to_current_and_header_is_kept():
    t = parse_trace({"steps": [], "name": "x", "expect": {"v5.7": ["isolation"]}})
    assert t.ruleset == "current"
    assert t.header["expect"] == {"v5.7": ["isolation"]}


@pytest.mark.parametrize("bad, index, words", [
    ({"op": "frob"}, 1, "unknown op 'frob'"),
    ({"mm": 0}, 1, "missing 'op'"),
    ({"op": "read", "mm": 0}, 1, "missing argument 'vpn'"),
    ({"op": "read", "mm": 0, "vpn": 0, "value": 1}, 1, "unknown argument 'value'"),
    ({"op": "read", "mm": True, "vpn": 0}, 1, "mm must be an integer, not a boolean"),
    ({"op": "read", "mm": "0", "vpn": 0}, 1, "must be an integer"),
    ({"op": "read", "mm": 0, "vpn": 1.5}, 1, "must be an integer"),
    ({"op": "read", "mm": -1, "vpn": 0}, 1, "mm must be in"),
    ({"op": "pin", "mm": 0, "vpn": 0, "write": 1, "longterm": False, "id": "p"}, 1,
     "write must be true or false"),
    ({"op": "pin", "mm": 0, "vpn": 0, "write": True, "longterm": False, "id": ""}, 1,
     "non-empty string"),
    ({"op": "madvise", "mm": 0, "vpn": 0, "npages": 1, "advice": "free"}, 1,
     "unknown advice 'free'"),
    ({"op": "mmap", "mm": 0, "vpn": 2, "npages": 4, "thp": True}, 1, "multiple of 4"),
    ({"op": "mmap", "mm": 0, "vpn": 4, "npages": 2, "thp": True}, 1, "whole folios"),
    ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 0}, 1, "npages must be in"),
    ({"op": "fork", "mm": 0, "child": 0}, 1, "child must differ"),
    ("write", 1, "a step is a JSON object"),
])
def test_bad_steps_name_the_step(bad, index, words):
    e = error(trace({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}, bad))
    assert e.step == index
    assert words in str(e)
    assert str(e).startswith(f"step {index}: ")
    assert "\n" not in str(e)


@pytest.mark.parametrize("obj, words", [
    ([], "a trace is a JSON object"),
    ({"ruleset": "current"}, "missing field 'steps'"),
    ({"steps": {}}, "steps must be a list"),
    ({"steps": [], "ruleset": 5}, "ruleset must be"),
    ({"steps": [], "free": {"x": 1}}, "free must map"),
    ({"steps": [], "stpes": []}, "unknown top-level field 'stpes'"),
    ({"steps": [], "expect": {"v5.7": "isolation"}}, "expect must map"),
])
def test_bad_traces(obj, words):
    e = error(obj)
    assert e.step is None
    assert words in str(e)


def test_step_helper_checks_like_the_parser():
    assert step("read", mm=0, vpn=3).args == {"mm": 0, "vpn": 3}
    with pytest.raises(TraceError):
        step("read", mm=0)
