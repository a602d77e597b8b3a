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
                        "split_folio", "poke", "clear_softdirty", "softdirty", "mremap",
                        "swapoff", "pte", "pfn", "writeback"}


def test_later_optional_arguments_stay_out_of_steps_that_do_not_give_them():
    """A trace of the first vocabulary parses to the very steps it did (same JSON out);
    the new arguments round-trip when given and print when not at their default."""
    old = parse_trace(trace({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1},
                            {"op": "pin", "mm": 0, "vpn": 0, "write": True, "longterm": False,
                             "id": "p"},
                            {"op": "mprotect", "mm": 0, "vpn": 0, "npages": 1, "write": False}))
    assert [s.to_json() for s in old.steps] == [
        {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "thp": False},
        {"op": "pin", "mm": 0, "vpn": 0, "write": True, "longterm": False, "id": "p"},
        {"op": "mprotect", "mm": 0, "vpn": 0, "npages": 1, "write": False}]
    assert format_step(old.steps[2]) == "mprotect mm=0 vpn=0 npages=1 write=false"
    new = parse_trace(trace(
        {"op": "mmap", "mm": 0, "vpn": 4, "npages": 4, "thp": True, "thp_order": 1,
         "prot": "r", "shared": False},
        {"op": "mmap", "mm": 0, "vpn": 8, "npages": 4, "hugetlb": True, "shared": True},
        {"op": "mmap", "mm": 0, "vpn": 0, "npages": 2, "backing": "shmem", "shared": True},
        {"op": "mprotect", "mm": 0, "vpn": 0, "npages": 1, "prot": "none"},
        {"op": "pin", "mm": 0, "vpn": 0, "write": False, "longterm": True, "id": "p",
         "fast": True, "force": False},
        {"op": "get", "mm": 0, "vpn": 1, "id": "g", "write": True, "force": True},
        {"op": "poke", "mm": 0, "vpn": 0, "value": 3},
        {"op": "clear_softdirty", "mm": 0},
        {"op": "softdirty", "mm": 0, "vpn": 0},
        {"op": "mremap", "mm": 0, "vpn": 0, "npages": 2, "new_vpn": 12},
        {"op": "swapoff"}, {"op": "pte", "mm": 0, "vpn": 12}, {"op": "pfn", "mm": 0, "vpn": 12},
        {"op": "writeback", "mm": 0, "vpn": 12}))
    assert parse_trace(new.to_json()) == new
    assert [format_step(s) for s in new.steps] == [
        "mmap mm=0 vpn=4 npages=4 thp=true prot=r thp_order=1",
        "mmap mm=0 vpn=8 npages=4 shared=true hugetlb=true",
        "mmap mm=0 vpn=0 npages=2 backing=shmem shared=true",
        "mprotect mm=0 vpn=0 npages=1 prot=none",
        "pin mm=0 vpn=0 write=false longterm=true id=p fast=true",
        "get mm=0 vpn=1 id=g write=true force=true",
        "poke mm=0 vpn=0 value=3",
        "clear_softdirty mm=0",
        "softdirty mm=0 vpn=0",
        "mremap mm=0 vpn=0 npages=2 new_vpn=12",
        "swapoff", "pte mm=0 vpn=12", "pfn mm=0 vpn=12", "writeback mm=0 vpn=12"]


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
    # the later vocabulary
    ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "prot": "wx"}, 1, "unknown protection 'wx'"),
    ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "backing": "dax"}, 1, "unknown backing"),
    ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "shared": 1}, 1, "shared must be true or false"),
    ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "thp": True, "thp_order": 3}, 1, "unknown order 3"),
    ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "thp": True, "thp_order": True}, 1,
     "unknown order True"),
    ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "thp_order": 1}, 1, "thp_order needs thp"),
    ({"op": "mmap", "mm": 0, "vpn": 2, "npages": 4, "hugetlb": True}, 1, "a hugetlb mapping starts"),
    ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "hugetlb": True, "thp": True}, 1,
     "thp and hugetlb exclude each other"),
    ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "hugetlb": True, "backing": "file"}, 1,
     "hugetlb mapping is anonymous"),
    ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "thp": True, "shared": True}, 1,
     "private anonymous mappings only"),
    ({"op": "mprotect", "mm": 0, "vpn": 0, "npages": 1}, 1, "exactly one of 'write' and 'prot'"),
    ({"op": "mprotect", "mm": 0, "vpn": 0, "npages": 1, "write": True, "prot": "rw"}, 1,
     "exactly one of 'write' and 'prot'"),
    ({"op": "pin", "mm": 0, "vpn": 0, "write": True, "longterm": False, "id": "p", "fast": "yes"},
     1, "fast must be true or false"),
    ({"op": "get", "mm": 0, "vpn": 0, "id": "g", "force": 0}, 1, "force must be true or false"),
    ({"op": "get", "mm": 0, "vpn": 0, "id": "g", "longterm": True}, 1, "unknown argument 'longterm'"),
    ({"op": "poke", "mm": 0, "vpn": 0}, 1, "poke: missing argument 'value'"),
    ({"op": "poke", "mm": 0, "vpn": 0, "value": "7"}, 1, "value must be an integer"),
    ({"op": "clear_softdirty"}, 1, "clear_softdirty: missing argument 'mm'"),
    ({"op": "clear_softdirty", "mm": 0, "vpn": 0}, 1, "unknown argument 'vpn'"),
    ({"op": "softdirty", "mm": 0}, 1, "softdirty: missing argument 'vpn'"),
    ({"op": "mremap", "mm": 0, "vpn": 0, "npages": 1}, 1, "missing argument 'new_vpn'"),
    ({"op": "mremap", "mm": 0, "vpn": 0, "npages": 4, "new_vpn": (1 << 20) - 2}, 1,
     "new range ends beyond"),
    ({"op": "swapoff", "mm": 0}, 1, "swapoff: unknown argument 'mm'"),
    ({"op": "pte", "mm": 0, "vpn": -1}, 1, "vpn must be in"),
    ({"op": "pfn", "vpn": 0}, 1, "pfn: missing argument 'mm'"),
    ({"op": "writeback", "mm": 0, "vpn": 0, "value": 1}, 1, "unknown argument 'value'"),
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
