"""Canonical keys of explored states (review/verify/canon.py): they abstract names
nothing depends on (values, folio ids, reference names) and keep everything
observable; the schema guard; `unchanged`, the shortcut for steps that change
nothing; and the audit that compares the behaviour of states merged by one key."""
from __future__ import annotations

import pytest

from spec.presets import PRESETS
from spec.state import VM_HUGEPAGE, VM_NOHUGEPAGE, VM_WRITE
from spec.trace import parse_step, step

from review.verify import canon
from review.verify.model import Bounds, SpecModel
from review.verify.search import audit, verify
from tests.review.verify.verify_util import PIN_OPS, session_after


def test_key_abstracts_values_and_folio_ids_but_not_what_is_observable():
    w = lambda v, vpn=0: {"op": "write", "mm": 0, "vpn": vpn, "value": v}  # noqa: E731
    m, a = session_after(w(5))
    _, b = session_after(w(9))
    drv = (1, (0,), (), 1)
    assert m.keyer.key(a, drv) == m.keyer.key(b, drv)
    # a different folio id (an extra fault and zap first) and other values: same key
    _, c = session_after(w(3, 1), {"op": "madvise", "mm": 0, "vpn": 1, "npages": 1,
                                   "advice": "dontneed"}, w(7))
    assert m.keyer.key(a, drv) == m.keyer.key(c, drv)
    # the same value in both pages is not two different values in them
    _, same = session_after(w(4), w(4, 1))
    _, diff = session_after(w(4), w(6, 1))
    assert m.keyer.key(same, drv) != m.keyer.key(diff, drv)
    # the contract is part of the key: same kernel, other logical expectations
    d = a.clone()
    d.contract.procs[0].mem[0] = 0
    assert m.keyer.key(d, drv) != m.keyer.key(a, drv)
    # and so is how many forks the alphabet has left
    assert m.keyer.key(a, (2, (0,), (), 1)) != m.keyer.key(a, drv)


def test_key_tells_apart_references_to_one_address_that_were_or_were_not_bound_together():
    # r0 is pinned, unbound by munmap, and the address mapped again and pinned as r1:
    # the two windows do not overlap, so a device write through r0 is not r1's to see
    # (Contract._dma_write). The same state with r1 taken while r0 was still bound
    # differs in that only, and must not share r0/r1's key.
    pin = lambda rid: {"op": "pin", "mm": 0, "vpn": 0, "write": True,  # noqa: E731
                       "longterm": False, "id": rid}
    m, a = session_after(pin("r0"), {"op": "munmap", "mm": 0, "vpn": 0, "npages": 1},
                         {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}, pin("r1"))
    b = a.clone()
    b.contract.refs["r1"].taken = a.contract.refs["r0"].taken
    drv = (1, (0,), (("r0", "pin_rw"), ("r1", "pin_rw")), 10)
    assert canon.Keyer(2).key(a, drv) != canon.Keyer(2).key(b, drv)
    # and the difference is one the contract acts on
    for s in (a, b):
        status, _ = canon.apply(s, step("dma_write", id="r0", value=99))
        assert status == "ok"
    assert 99 not in a.contract.refs["r1"].device and 99 in b.contract.refs["r1"].device


def test_key_does_not_depend_on_which_name_each_reference_got():
    pin = lambda rid, vpn, write: {"op": "pin", "mm": 0, "vpn": vpn,  # noqa: E731
                                   "write": write, "longterm": False, "id": rid}
    m, a = session_after(pin("r0", 0, True), pin("r1", 1, False))
    _, b = session_after(pin("r0", 1, False), pin("r1", 0, True))
    _, c = session_after(pin("r0", 1, True), pin("r1", 0, False))
    keyer = canon.Keyer(2)
    drv = (1, (0,), (), 1)
    assert keyer.key(a, drv) == keyer.key(b, drv)
    assert keyer.key(a, drv) != keyer.key(c, drv)  # other pins at the pages: other state
    # and the merged states behave the same (two references, mapping changes included)
    ops = ("write", "fork", "pin", "unpin", "dma_write", "dma_read", "munmap", "mmap")
    compared, problems = audit(PRESETS["current"], Bounds(depth=3, processes=2, pages=1, pins=2,
                                                          ops=ops, pin_kinds=("rw", "ro")),
                               samples=60)
    assert compared == 60 and problems == []


def test_key_names_swap_cache_folios_by_their_slot_not_by_allocation_order():
    # After a THP is swapped out and the process forked, the parent's swap-in faults
    # on pages 0 and 1 leave one small folio per slot in the swap cache. Faulting 1
    # then 0, or 0 then 1, gives the same state with the folio ids swapped; the key
    # must not tell them apart (the sleep-set reduction explores one order only).

    start = ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "thp": True},
             {"op": "write", "mm": 0, "vpn": 0, "value": 1},
             {"op": "swapout", "mm": 0, "vpn": 0},
             {"op": "fork", "mm": 0, "child": 1})
    model = SpecModel(PRESETS["current"], Bounds(depth=2, pages=2, thp=True, start=start),
                      digest=False)
    (session, driver), _, _ = model.initial()

    def after(*objs):
        s = session.clone()
        for i, obj in enumerate(objs):
            assert canon.apply(s, parse_step(obj, 4 + i))[0] == "ok"
        return s

    w0 = {"op": "write", "mm": 0, "vpn": 0, "value": 3}
    w1 = {"op": "write", "mm": 0, "vpn": 1, "value": 2}
    one_first, zero_first = after(w1, w0), after(w0, w1)
    cached = [f for f in one_first.kernel.state.folios.values() if f.swapcache]
    assert len(cached) == 2  # the precondition: two folios only the swap cache holds
    assert model.keyer.key(one_first, driver) == model.keyer.key(zero_first, driver)


def test_schema_guard_names_state_the_key_does_not_cover(monkeypatch):
    canon.check_schema()
    monkeypatch.setitem(canon.KNOWN_FIELDS, "Folio", canon.KNOWN_FIELDS["Folio"] - {"pincount"})
    with pytest.raises(canon.SchemaError, match="Folio: pincount"):
        canon.check_schema()


def test_unchanged_sees_a_change_in_any_keyed_part():
    m, a = session_after({"op": "write", "mm": 0, "vpn": 0, "value": 1})
    assert canon.unchanged(a, a.clone())
    for mutate in (
        lambda s: s.kernel.state.folios[next(iter(s.kernel.state.folios))].data.__setitem__(0, 2),
        lambda s: setattr(s.kernel.state.mms[0].ptes[0], "dirty", not s.kernel.state.mms[0].ptes[0].dirty),
        lambda s: s.kernel.state.mms[0].vmas.__setitem__(0, 0),
        lambda s: s.contract.procs[0].written.clear(),
        lambda s: setattr(s.kernel.state.mms[0], "has_pinned", True),
    ):
        b = a.clone()
        mutate(b)
        assert not canon.unchanged(a, b)


def test_unchanged_tells_a_flip_of_unread_flags_from_a_real_change():
    m, a = session_after({"op": "write", "mm": 0, "vpn": 0, "value": 1})
    unread = m.keyer.unread_vma_flags
    assert unread == VM_HUGEPAGE | VM_NOHUGEPAGE          # 2 small pages: no THP
    assert canon.unchanged(a, a.clone(), unread) == canon.IDENTICAL
    huge = a.clone()
    huge.kernel.state.mms[0].vmas[0] |= VM_NOHUGEPAGE
    assert canon.unchanged(a, huge, unread) == canon.UP_TO_UNREAD_FLAGS
    assert not canon.unchanged(a, huge)                    # not without the mask
    both = huge.clone()
    both.kernel.state.mms[0].vmas[1] &= ~VM_WRITE          # and a flag that is read
    assert not canon.unchanged(a, both, unread)


def test_canonical_key_merges_only_states_that_behave_the_same():
    for name in ("current", "v5.9"):
        compared, problems = audit(PRESETS[name], Bounds(depth=3, processes=2, pages=2, pins=1,
                                                         ops=PIN_OPS + ("swapout", "madvise")),
                                   samples=60)
        assert compared == 60 and problems == []


def test_audit_catches_a_key_that_forgets_state(monkeypatch):
    real = canon.Keyer.raw

    def forgetful(self, session, driver):  # forgets how many forks the alphabet has left
        return real(self, session, driver)[:-1]

    monkeypatch.setattr(canon.Keyer, "raw", forgetful)
    compared, problems = audit(PRESETS["current"], Bounds(depth=3, processes=3,
                                                          ops=("write", "fork", "exit")),
                               samples=200)
    assert problems


def test_full_symmetry_merges_more_and_the_audit_finds_no_difference():
    b = Bounds(depth=3, processes=3, pages=1, pins=1, ops=PIN_OPS)
    full = Bounds(depth=3, processes=3, pages=1, pins=1, ops=PIN_OPS, symmetry=True)
    plain_r = verify(PRESETS["current"], b)
    full_r = verify(PRESETS["current"], full)
    assert plain_r.ok and full_r.ok and full_r.states < plain_r.states
    compared, problems = audit(PRESETS["v5.8"], full, samples=80)
    assert compared == 80 and problems == []
