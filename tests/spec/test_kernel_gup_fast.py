"""GUP-fast (gup.fast, Ref.slow_ok), FOLL_FORCE (gup.follow_write, poke), R/W FOLL_GET,
PROT_NONE and the v6.5 longterm file rule."""
from __future__ import annotations

import pytest

from spec import expr as E
from spec.decisions import ExtractedDecision, GuardedOutcome
from spec.kernel import Kernel
from spec.presets import PRESETS
from spec.run import run_trace
from spec.state import ZERO_FOLIO
from spec.trace import parse_trace

from tests.spec.kernel_util import folio, kernel, pte, run, step, violations

ERAS = tuple(PRESETS)
AE = ("v5.19", "v6.0", "v6.2", "v6.5", "v6.8", "current")

SHARED_AFTER_FORK = (
    ("mmap", dict(mm=0, vpn=0, npages=1)),
    ("write", dict(mm=0, vpn=0, value=1)),
    ("fork", dict(mm=0, child=1)),
)


def test_gup_fast_takes_a_writable_page_without_faulting_and_records_it():
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("write", dict(mm=0, vpn=0, value=1)))
    step(k, "pin", mm=0, vpn=0, write=True, longterm=False, id="p", fast=True)
    r = k.state.refs["p"]
    assert (r.fast, r.slow_ok) == (True, True) and k.outcomes == [("gup.fast", "pin")]
    assert k.state.mms[0].has_pinned and folio(k, 0, 0).pincount == 1


def test_gup_fast_backs_off_where_there_is_no_page_to_take():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=3)
    step(k, "read", mm=0, vpn=1)                     # the zero page: pte_special
    step(k, "mmap", mm=0, vpn=2, npages=1, prot="none")
    for vpn in (0, 1):
        step(k, "get", mm=0, vpn=vpn, id=f"g{vpn}", fast=True)
        assert not k.state.refs[f"g{vpn}"].fast and ("gup.fast", "pin") not in k.outcomes
    assert k.state.refs["g1"].folio == ZERO_FOLIO
    assert step(k, "get", mm=0, vpn=2, id="n", fast=True).status == "EFAULT"   # PROT_NONE


@pytest.mark.parametrize("era", ERAS)
def test_gup_fast_ro_pin_of_a_shared_page(era):
    k = kernel(era)
    run(k, *SHARED_AFTER_FORK)
    step(k, "pin", mm=0, vpn=0, write=False, longterm=False, id="p", fast=True)
    fell_back = era in AE or era == "v5.8"
    assert k.state.refs["p"].fast is not fell_back
    assert k.state.refs["p"].slow_ok and not violations(k)
    step(k, "write", mm=0, vpn=0, value=2)
    stale = era in ("v5.7", "v5.9", "v5.18")
    assert step(k, "dma_read", id="p").value == (1 if stale else 2)


def test_a_gup_fast_without_the_unshare_check_pins_what_the_slow_path_would_unshare():
    no_check = ExtractedDecision("gup.fast", (GuardedOutcome(E.TRUE, "pin"),))
    k = Kernel(PRESETS["current"].with_overlay(decisions=(no_check,)))
    run(k, *SHARED_AFTER_FORK)
    step(k, "pin", mm=0, vpn=0, write=False, longterm=False, id="p", fast=True)
    assert k.state.refs["p"].fast and not k.state.refs["p"].slow_ok
    assert violations(k) == {"gup-fast-as-slow", "pinned-exclusive"}


@pytest.mark.parametrize("era", ERAS)
def test_rw_longterm_pins_of_a_shared_file_are_refused_from_v6_5(era):
    k = kernel(era)
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1, backing="file", shared=True)),
        ("mmap", dict(mm=0, vpn=1, npages=1, backing="shmem", shared=True)),
        ("write", dict(mm=0, vpn=0, value=1)), ("write", dict(mm=0, vpn=1, value=2)))
    refused = era in ("v6.5", "v6.8", "current")
    for fast in (False, True):
        status = step(k, "pin", mm=0, vpn=0, write=True, longterm=True, id=f"f{fast}",
                      fast=fast).status
        assert status == ("EFAULT" if refused else "ok")
        assert step(k, "pin", mm=0, vpn=1, write=True, longterm=True, id=f"s{fast}",
                    fast=fast).status == "ok"
    assert step(k, "pin", mm=0, vpn=0, write=True, longterm=False, id="short").status == "ok"


def test_rw_get_is_the_o_direct_read_case_and_may_write_through():
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("write", dict(mm=0, vpn=0, value=1)))
    step(k, "get", mm=0, vpn=0, id="g", write=True)
    assert not k.state.refs["g"].pin and k.state.refs["g"].write
    step(k, "dma_write", id="g", value=5)
    assert step(k, "read", mm=0, vpn=0).value == 5
    step(k, "mprotect", mm=0, vpn=0, npages=1, write=False)
    assert step(k, "get", mm=0, vpn=0, id="h", write=True).status == "EFAULT"
    assert step(k, "get", mm=0, vpn=0, id="h", write=True, force=True).status == "ok"


def test_prot_none_is_refused_without_foll_force_and_read_with_it():
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("write", dict(mm=0, vpn=0, value=3)),
        ("mprotect", dict(mm=0, vpn=0, npages=1, prot="none")))
    assert step(k, "read", mm=0, vpn=0).status == "SIGSEGV"
    assert step(k, "get", mm=0, vpn=0, id="g").status == "EFAULT"
    assert step(k, "get", mm=0, vpn=0, id="g", force=True).status == "ok"
    assert step(k, "dma_read", id="g").value == 3
    assert step(k, "poke", mm=0, vpn=0, value=4).status == "ok"
    step(k, "mprotect", mm=0, vpn=0, npages=1, prot="r")
    assert step(k, "read", mm=0, vpn=0).value == 4 and not violations(k)


@pytest.mark.parametrize("era", ERAS)
def test_a_poke_into_a_ro_private_anon_mapping_breaks_cow_then_follows(era):
    k = kernel(era)
    run(k, *SHARED_AFTER_FORK, ("mprotect", dict(mm=0, vpn=0, npages=1, prot="r")))
    assert step(k, "poke", mm=0, vpn=0, value=9).status == "ok"
    asked = [o for p, o in k.outcomes if p == "gup.follow_write"]
    assert asked == ["fault", "follow"]              # R/O: fault (COW) first, then follow
    assert [k.peek(0, 0), k.peek(1, 0)] == [9, 1]
    assert not pte(k, 0, 0).writable and not violations(k)


def test_follow_write_rules_of_the_eras_differ_on_a_clean_exclusive_page():
    """A FOLL_FORCE write to an exclusive anon page mapped R/O and clean: v5.x fault
    (FOLL_COW not set yet), v6.0 follows (PageAnonExclusive)."""
    for era, first in (("v5.19", "fault"), ("v6.0", "follow")):
        k = kernel(era)
        run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("write", dict(mm=0, vpn=0, value=1)),
            ("mprotect", dict(mm=0, vpn=0, npages=1, prot="r")))
        pte(k, 0, 0).dirty = False                  # as after writeback cleaned it
        step(k, "poke", mm=0, vpn=0, value=2)
        assert [o for p, o in k.outcomes if p == "gup.follow_write"][0] == first
        assert k.peek(0, 0) == 2 and not violations(k)


def test_a_follow_rule_that_skips_cow_writes_the_file_and_the_zero_page():
    """The pre-v4.9 rule in its sequential form: a forced write in a R/O private mapping
    treated as already past COW (FOLL_WRITE dropped) follows the R/O entry it finds."""
    force_follows = ExtractedDecision("gup.follow_write", (
        GuardedOutcome(E.And((E.Atom("foll_force"), E.Not(E.Atom("vm_write")))), "follow"),))
    rules = PRESETS["current"].with_overlay(decisions=(force_follows,), name="pre-v4.9")
    t = parse_trace({"steps": [
        {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "backing": "file", "prot": "r"},
        {"op": "read", "mm": 0, "vpn": 0},
        {"op": "poke", "mm": 0, "vpn": 0, "value": 5},
        {"op": "mmap", "mm": 1, "vpn": 0, "npages": 1, "prot": "r"},
        {"op": "read", "mm": 1, "vpn": 0},
        {"op": "poke", "mm": 1, "vpn": 0, "value": 6}]})
    report = run_trace(t, rules)
    assert report.clauses == {"file-integrity", "zero-page"}
    assert run_trace(t, PRESETS["current"]).clauses == set()


def test_a_follow_rule_that_never_follows_stalls_gup():
    """A rule that refuses a forced write even after the COW break it asked for: the
    kernel would fault for ever (__get_user_pages loops until follow_page_mask returns a
    page). The model reports gup-progress after MAX_RETRIES faults and goes on."""
    never = ExtractedDecision("gup.follow_write", (
        GuardedOutcome(E.Not(E.Atom("pte_write")), "fault"),))
    rules = PRESETS["current"].with_overlay(decisions=(never,), name="never-follows")
    t = parse_trace({"steps": [
        {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "prot": "r"},
        {"op": "poke", "mm": 0, "vpn": 0, "value": 5}]})
    report = run_trace(t, rules)
    assert report.clauses == {"gup-progress"}
    (v,) = report.violations
    assert v.step == 1 and "faulted the page in 8 times" in v.message
    assert run_trace(t, PRESETS["current"]).clauses == set()


@pytest.mark.parametrize("era", ERAS)
def test_every_era_ends_a_forced_cow_break_in_a_read_only_mapping(era):
    """A R/O reference on a R/O private page: v5.8's forced COW break adds FOLL_WRITE
    without FOLL_FORCE, and its can_follow_write_pte follows the dirty entry the break
    left (17839856fd58); no era stalls, forced writes neither."""
    k = kernel(era)
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("write", dict(mm=0, vpn=0, value=1)),
        ("mprotect", dict(mm=0, vpn=0, npages=1, prot="r")))
    assert step(k, "get", mm=0, vpn=0, id="g").status == "ok" and not k.stalled
    assert step(k, "poke", mm=0, vpn=0, value=2).status == "ok" and not k.stalled


def test_gup_whose_faults_never_map_the_page_fails_instead_of_taking_nothing(monkeypatch):
    """If no fault maps the page (a fault handler that does nothing, as a broken rule
    set's could), GUP reports the stall and then fails with -EFAULT: there is no page
    to take a reference on."""
    import spec.ops.gup as gup
    monkeypatch.setattr(gup, "handle_mm_fault", lambda *a, **kw: None)
    k = kernel("current")
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)))
    assert step(k, "get", mm=0, vpn=0, id="g").status == "EFAULT"
    assert "faulted the page in 8 times" in k.stalled
