"""Internal invariants and lifetime clauses: each one fires on a state that breaks it,
applies to the rule sets it says, and holds on everything the presets produce; the
fused pass equals the table, and docs/spec.md lists the table."""
from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, strategies as st

from spec import expr as E
from spec import invariants
from spec.clauses import CLAUSES
from spec.decisions import AssertionRule, Provenance
from spec.errors import StepError
from spec.invariant_table import INVARIANTS, applicable
from spec.kernel import Kernel
from spec.presets import PRESETS
from spec.run import Session
from spec.trace import parse_trace
from spec.state import MIGRATION, PRESENT, Pte

from tests.spec.kernel_util import folio, kernel, pte, step, violations, written




def test_every_invariant_has_a_clause_id_a_source_and_a_scope():
    ids = [i.id for i in INVARIANTS]
    assert len(ids) == len(set(ids)) and all(CLAUSES[i].kind in ("invariant", "contract")
                                             for i in ids)
    assert {"no-leak", "no-use-after-free", "refcount-covers-users"} <= set(ids)
    assert all(i.source and i.why and i.applies in ("AE", "all") for i in INVARIANTS)
    assert len(applicable(PRESETS["v5.9"])) < len(applicable(PRESETS["current"]))


def test_writable_non_exclusive_fires_only_where_the_flag_exists():
    for preset, fires in (("current", True), ("v5.9", False)):
        k = written(preset)
        folio(k, 0, 0).anon_exclusive[0] = False
        assert ("anon-exclusive-writable" in violations(k)) is fires


def test_pinned_exclusive():
    k = written()
    step(k, "pin", mm=0, vpn=0, write=False, longterm=False, id="p")
    assert not violations(k)
    folio(k, 0, 0).anon_exclusive[0] = False
    pte(k, 0, 0).writable = False
    assert violations(k) == {"pinned-exclusive"}


def test_exclusive_single_mapper():
    k = written()
    step(k, "fork", mm=0, child=1)
    folio(k, 0, 0).anon_exclusive[0] = True
    assert violations(k) == {"exclusive-single-mapper"}


def test_ksm_not_exclusive_and_exclusive_only_anon():
    k = written()
    folio(k, 0, 0).ksm = True
    assert violations(k) == {"ksm-not-exclusive", "exclusive-only-anon"}
    folio(k, 0, 0).anon_exclusive[0] = False
    assert violations(k) == {"ksm-not-exclusive", "anon-exclusive-writable"}  # still writable


def test_swap_entry_clears_exclusive():
    k = written()
    step(k, "get", mm=0, vpn=0, id="g")
    step(k, "swapout", mm=0, vpn=0)      # the reference keeps the folio in the swap cache
    assert not violations(k)
    k.state.folios[k.state.refs["g"].folio].anon_exclusive[0] = True
    assert violations(k) == {"swap-entry-clears-exclusive"}


def test_migration_entry_clears_exclusive():
    k = written()
    f = folio(k, 0, 0)
    p = pte(k, 0, 0)
    # a migration entry as try_to_migrate_one leaves it, but with the flag kept
    k.state.mms[0].ptes[0] = Pte(MIGRATION, f.id, 0, migration="read_exclusive")
    f.mapcount[0] = 0
    f.refcount = 1                    # the migrator's own reference, not modelled as a user
    assert "migration-entry-clears-exclusive" in violations(k)
    assert p.kind == PRESENT


def test_thp_exclusive_granularity():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True)
    step(k, "write", mm=0, vpn=0, value=1)
    assert not violations(k)
    k.state.folios[k.state.mms[0].pmds[0].folio].anon_exclusive[2] = True
    assert violations(k) == {"thp-exclusive-granularity"}


def test_refcount_and_lifetime_clauses_apply_to_every_era():
    for preset in PRESETS:
        k = written(preset)
        f = folio(k, 0, 0)
        f.refcount = 0
        assert "refcount-covers-users" in violations(k), preset
        f.refcount = 3
        assert violations(k) == {"no-leak"}, preset
        f.refcount = 1
        del k.state.folios[f.id]          # freed while mapped
        assert violations(k) == {"no-use-after-free"}, preset


def test_leaked_swap_slot_and_unused_folio():
    k = written()
    step(k, "swapout", mm=0, vpn=0)
    slot = next(iter(k.state.slots.values()))
    slot.count += 1
    assert violations(k) == {"no-leak"}
    slot.count -= 2
    assert "no-use-after-free" in violations(k)


def test_one_violation_per_clause_with_the_callers_step():
    k = written()
    step(k, "write", mm=0, vpn=1, value=2)
    for v in (0, 1):
        folio(k, 0, v).anon_exclusive[0] = False
    found = invariants.check(k, step=7)
    assert [(v.id, v.step) for v in found] == [("anon-exclusive-writable", 7)]


def test_extracted_assertions_run_at_their_primitive():
    rule = AssertionRule("pin_page", E.Not(E.Atom("anon_exclusive")), "VM_BUG_ON")
    k = Kernel(PRESETS["current"].with_overlay(assertions=(rule,)))
    step(k, "mmap", mm=0, vpn=0, npages=1)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "pin", mm=0, vpn=0, write=True, longterm=False, id="p")
    assert k.assertion_failures == []      # exclusive: the condition is false
    step(k, "pin", mm=0, vpn=0, write=False, longterm=False, id="q")
    assert k.assertion_failures == []
    old = Kernel(PRESETS["v5.9"].with_overlay(assertions=(rule,)))
    step(old, "mmap", mm=0, vpn=0, npages=1)
    step(old, "write", mm=0, vpn=0, value=1)
    step(old, "pin", mm=0, vpn=0, write=True, longterm=False, id="p")
    (failed, message), = old.assertion_failures   # no flag in v5.9: the check fires
    assert failed is rule and "pin_page" in message
    step(old, "read", mm=0, vpn=0)
    assert old.assertion_failures == []           # per apply


def test_an_extracted_assertion_is_reported_in_the_words_of_its_c():
    """A patch-assertion violation names the macro, the C condition and where it is,
    never a Python repr of the rule."""
    prov = Provenance("mm/gup.c", "try_grab_page", 42, "post", "", "!PageAnonExclusive(page)")
    rule = AssertionRule("pin_page", E.Not(E.Free("PageAnonExclusive(page)")), "VM_BUG_ON_PAGE", prov)
    session = Session(PRESETS["v5.9"].with_overlay(assertions=(rule,), free={"PageAnonExclusive(page)": False}))
    for s in ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}, {"op": "write", "mm": 0, "vpn": 0, "value": 1}):
        session.step(parse_trace({"steps": [s]}).steps[0])
    _, found = session.step(parse_trace({"steps": [
        {"op": "pin", "mm": 0, "vpn": 0, "write": True, "longterm": False, "id": "p"}]}).steps[0])
    (v,) = [v for v in found if v.id == "patch-assertion"]
    assert v.message == "VM_BUG_ON_PAGE(!PageAnonExclusive(page)) at pin_page (mm/gup.c:42 try_grab_page)"


# ---------------------------------------------------------------- every preset, random traces

ADVICE = ("dontneed", "dontfork", "dofork", "wipeonfork", "pageout", "mergeable",
          "unmergeable", "hugepage", "nohugepage", "collapse")
OPS = ("munmap", "madvise", "mprotect", "read", "write", "fork", "exit", "pin", "get",
       "unpin", "put", "dma_read", "dma_write", "swapout", "swapin", "migrate", "ksm_merge",
       "split_pmd", "split_folio", "mmap")

step_st = st.tuples(st.sampled_from(OPS), st.integers(0, 2), st.integers(0, 7),
                    st.integers(1, 4), st.booleans(), st.booleans(), st.integers(0, 3),
                    st.sampled_from(ADVICE))


def _args(k, op, mm, vpn, n, b1, b2, r, advice, serial):
    refs = sorted(k.state.refs)
    if op in ("unpin", "put", "dma_read", "dma_write"):
        if not refs:
            return None
        rid = refs[r % len(refs)]
        pin = k.state.refs[rid].pin
        if op in ("unpin", "put"):
            op = "unpin" if pin else "put"
        if op == "dma_write" and not (pin and k.state.refs[rid].write):
            op = "dma_read"
        return op, {"id": rid, "value": serial}
    a = {"mm": mm, "vpn": vpn, "npages": n, "write": b1, "longterm": b2, "value": serial,
         "thp": b1, "advice": advice, "id": f"r{serial}", "child": 100 + serial,
         "mm2": r % 3, "vpn2": (vpn + r) % 8}
    if op == "mmap":
        a.update(vpn=4 * (vpn % 2), npages=4 * (1 + n % 2))
    return op, a


def applied(k, steps):
    """Apply the drawn steps to `k` in turn, yielding (op, args) after each one the
    kernel could apply (those naming no reference, or an unknown process, are skipped)."""
    for serial, s in enumerate(steps, 1):
        got = _args(k, *s, serial)
        if got is None:
            continue
        try:
            k.apply(*got)
        except StepError:
            continue
        yield got


@given(st.sampled_from(tuple(PRESETS)), st.booleans(), st.lists(step_st, max_size=30))
def test_random_traces_keep_the_invariants_the_preset_promises(preset, thp, steps):
    k = kernel(preset)
    step(k, "mmap", mm=0, vpn=0, npages=8, thp=thp)
    step(k, "fork", mm=0, child=1)
    step(k, "fork", mm=0, child=2)
    for got in applied(k, steps):
        assert not invariants.check(k), (got, k.state)
        for m in k.state.mms.values():          # peek never faults and never crashes
            for v in m.vmas:
                k.peek(m.id, v)


MUTATIONS = ("refcount+", "refcount-", "pincount", "ae", "ae_tail", "ksm", "writable",
             "slot+", "slot-", "drop_folio", "drop_slot")


def _mutate(k, what: str, pick: int) -> None:
    st = k.state
    folios = sorted(st.folios)
    slots = sorted(st.slots)
    ptes = [(m, v) for m in sorted(st.mms) for v in sorted(st.mms[m].ptes)]
    if what.startswith("refcount") and folios:
        st.folios[folios[pick % len(folios)]].refcount += 1 if what == "refcount+" else -1
    elif what == "pincount" and folios:
        st.folios[folios[pick % len(folios)]].pincount += 1
    elif what in ("ae", "ae_tail", "ksm") and folios:
        f = st.folios[folios[pick % len(folios)]]
        if what == "ksm":
            f.ksm = not f.ksm
        else:
            i = (f.nr - 1) if what == "ae_tail" else 0
            f.anon_exclusive[i] = not f.anon_exclusive[i]
    elif what == "writable" and ptes:
        m, v = ptes[pick % len(ptes)]
        p = st.mms[m].ptes[v]
        p.writable = not p.writable
    elif what.startswith("slot") and slots:
        st.slots[slots[pick % len(slots)]].count += 1 if what == "slot+" else -1
    elif what == "drop_folio" and folios:
        del st.folios[folios[pick % len(folios)]]
    elif what == "drop_slot" and slots:
        del st.slots[slots[pick % len(slots)]]


@given(st.sampled_from(("current", "v5.9")), st.lists(step_st, max_size=20),
       st.sampled_from(MUTATIONS), st.integers(0, 50))
def test_the_fused_check_agrees_with_the_predicates(preset, steps, mutation, pick):
    k = kernel(preset)
    step(k, "mmap", mm=0, vpn=0, npages=8, thp=pick % 2 == 0)
    step(k, "fork", mm=0, child=1)
    for _got in applied(k, steps):
        pass
    _mutate(k, mutation, pick)
    slow = [i.id for i in applicable(k.rules) if i.predicate(k.state) is not None]
    fast = invariants.all_hold(k)
    assert not (fast and slow), (mutation, slow)
    assert [v.id for v in invariants.check(k)] == slow
    assert fast == (not slow), (mutation, slow)


@given(st.sampled_from(tuple(PRESETS)), st.booleans(), st.lists(step_st, max_size=30))
def test_the_fused_pass_holds_exactly_when_the_table_does(preset, thp, steps):
    """On random traces of every preset, after every step: all_hold() is True exactly
    when the table's predicates (failed(), without the fused pass) find nothing."""
    k = kernel(preset)
    step(k, "mmap", mm=0, vpn=0, npages=8, thp=thp)
    step(k, "fork", mm=0, child=1)
    for got in applied(k, steps):
        table = [v.id for v in invariants.failed(k)]
        assert invariants.all_hold(k) == (not table), (got, table)


def test_clauses_take_the_invariants_from_the_table():
    for i in INVARIANTS:
        c = CLAUSES[i.id]
        assert (c.kind, c.meaning, c.source) == (i.kind, i.meaning, i.source)


def _documented_invariants() -> list[tuple[str, str]]:
    """(id, scope) of each row of the table under '## Invariants' in docs/spec.md."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "spec.md").read_text()
    section = doc.split("\n## Invariants", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([a-z-]+) \| (\w+) \|", section, re.M)
    return [(id, scope) for id, scope in rows if id != "id"]


def test_docs_list_the_invariant_table():
    assert _documented_invariants() == [(i.id, i.applies) for i in INVARIANTS]
