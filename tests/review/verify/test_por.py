"""Sleep-set reduction of mmreview verify (review/verify/por.py): the reduced search
must reach exactly the states of the plain one, at the same depths, with the same
shortest trace per clause, for fewer steps; and two steps whose footprints are
disjoint must commute in the spec itself (checked directly, and shown to catch a
footprint that is too fine)."""
from __future__ import annotations

import json

import pytest

from mmreview.cli import main
from review.check.explore import JointModel
from review.verify import canon, por, por_check
from review.verify.model import Bounds, SpecModel
from review.verify.por import Footprints
from review.verify.por_check import check_independence, check_writes
from review.verify.search import explore, verify
from spec.presets import PRESETS
from spec.trace import parse_step


def _both(preset, **bounds):
    b = Bounds(**bounds)
    plain = verify(PRESETS[preset], b, all_clauses=True, reduce=False)
    reduced = verify(PRESETS[preset], b, all_clauses=True, reduce=True)
    return plain, reduced


@pytest.mark.parametrize("preset", ["v5.7", "v5.8", "v5.9", "v5.18", "v5.19", "current"])
def test_reduction_keeps_every_state_and_shortest_finding_two_pages_two_pins(preset):
    plain, reduced = _both(preset, depth=3, pages=2, pins=2)
    assert not plain.reduced and reduced.reduced
    assert reduced.states_per_depth == plain.states_per_depth
    assert {f.id: f.length for f in reduced.findings} == {f.id: f.length for f in plain.findings}
    assert reduced.transitions < 0.8 * plain.transitions


@pytest.mark.parametrize("bounds", [
    dict(depth=3, pages=2, thp=True),
    dict(depth=4, pages=1, processes=3),
    dict(depth=3, pages=2, processes=3, symmetry=True),
], ids=["thp", "three-processes", "full-symmetry"])
def test_reduction_keeps_every_state_in_other_bounds(bounds):
    plain, reduced = _both("v5.7", **bounds)
    assert reduced.states_per_depth == plain.states_per_depth
    assert {f.id: f.length for f in reduced.findings} == {f.id: f.length for f in plain.findings}
    assert reduced.transitions < plain.transitions


def test_reduced_search_still_stops_at_a_shortest_violation():
    # v5.7: the R/O pin incoherence; the first violation found ends the search
    b = Bounds(depth=4, pages=1)
    plain = verify(PRESETS["v5.7"], b, reduce=False)
    reduced = verify(PRESETS["v5.7"], b)
    assert plain.status == reduced.status == "violation"
    assert len(reduced.trace) == len(plain.trace)
    assert {v.id for v in reduced.violations} == {v.id for v in plain.violations}


@pytest.mark.parametrize("preset, bounds", [
    ("v5.7", dict(depth=3, pages=2, pins=2)),
    ("current", dict(depth=3, pages=2, thp=True)),
    ("v5.9", dict(depth=3, pages=1, processes=3)),
])
def test_steps_with_disjoint_footprints_commute_in_the_spec(preset, bounds):
    checked, problems = check_independence(PRESETS[preset], Bounds(**bounds), states=12)
    assert checked > 500
    assert problems == []


def test_independence_check_catches_a_footprint_without_folios(monkeypatch):
    # two processes sharing a folio after fork: steps on "different" pages are not
    # independent if the footprint forgets the folio they share
    monkeypatch.setattr(Footprints, "_folio", staticmethod(lambda out, st, fid: None))
    _, problems = check_independence(PRESETS["v5.7"], Bounds(depth=3, pages=2, pins=2), states=12)
    assert any("different states" in p or "change after" in p for p in problems)


def test_independence_check_catches_per_page_units_under_a_thp(monkeypatch):
    # a fault on one page of a THP block maps the whole block: pages are not units
    init = Footprints.__init__

    def fine_always(self, *args):
        init(self, *args)
        self.fine = True
    monkeypatch.setattr(Footprints, "__init__", fine_always)
    _, problems = check_independence(PRESETS["current"], Bounds(depth=3, pages=2, thp=True),
                                     states=12)
    assert problems


def test_independence_check_catches_a_forgotten_reference_namespace(monkeypatch):
    # pin takes the lowest free id: a pin and an unpin do not commute
    footprint = Footprints.footprint
    monkeypatch.setattr(Footprints, "footprint", lambda self, s, o: frozenset(
        t for t in footprint(self, s, o) if t != por.REF_NAMESPACE))
    _, problems = check_independence(PRESETS["v5.7"], Bounds(depth=3, pages=2, pins=2), states=12)
    assert problems


def _state_after(steps, **bounds):
    """The search state after the setup and `steps` (replay JSON objects)."""
    b = Bounds(depth=len(steps), start=tuple(
        [{"op": "mmap", "mm": 0, "vpn": 0, "npages": bounds.get("npages", 2), "thp": False}]
        + steps))
    model = SpecModel(PRESETS["current"], b)
    root, _, bad = model.initial()
    assert not bad
    return model, root


def test_footprint_units_follow_whether_a_thp_can_exist():
    assert Footprints(pages=2, thp=False, started=False).fine
    assert not Footprints(pages=2, thp=True, started=False).fine
    assert not Footprints(pages=4, thp=False, started=False).fine  # a whole block of VMAs
    assert not Footprints(pages=2, thp=False, started=True).fine   # --from: anything mapped


def test_footprints_name_the_pages_folios_and_references_a_step_touches():
    fp = Footprints(pages=2, thp=False, started=False)
    _, (session, _d) = _state_after([
        {"op": "write", "mm": 0, "vpn": 0, "value": 5},
        {"op": "fork", "mm": 0, "child": 1},
        {"op": "get", "mm": 1, "vpn": 0, "id": "r0"},  # FOLL_GET: no unshare
    ])
    folio = session.kernel.state.mms[0].ptes[0].folio
    write = fp.footprint(session, {"op": "write", "mm": 0, "vpn": 0, "value": 9})
    assert {("p", 0, 0), ("f", folio)} <= write
    # the child's page 0 maps the same folio: its steps conflict with the parent's
    read = fp.footprint(session, {"op": "read", "mm": 1, "vpn": 0})
    assert ("f", folio) in read and not write.isdisjoint(read)
    # page 1 was never touched: independent of page 0
    other = fp.footprint(session, {"op": "madvise", "mm": 0, "vpn": 1, "npages": 1,
                                   "advice": "hugepage"})
    assert other.isdisjoint(write)
    # a reference: its id, the namespace (unpin frees the id), the folio it holds and
    # the page it is bound to
    put = fp.footprint(session, {"op": "put", "id": "r0"})
    assert {("ref", "r0"), por.REF_NAMESPACE, ("p", 1, 0), ("f", folio)} <= put
    assert ("f", folio) in fp.footprint(session, {"op": "dma_read", "id": "r0"})
    assert por.REF_NAMESPACE in fp.footprint(
        session, {"op": "pin", "mm": 0, "vpn": 1, "write": True, "longterm": False, "id": "r1"})
    # fork and exit take every page of the process
    assert {("p", 0, 0), ("p", 0, 1), ("m", 0), por.FORK} <= fp.footprint(
        session, {"op": "fork", "mm": 0, "child": 2})
    # unmapping a page a reference is bound to orders binding: the namespace too
    assert por.REF_NAMESPACE in fp.footprint(
        session, {"op": "munmap", "mm": 1, "vpn": 0, "npages": 1})
    assert por.REF_NAMESPACE not in fp.footprint(
        session, {"op": "munmap", "mm": 0, "vpn": 1, "npages": 1})


def test_footprint_of_a_swapped_page_names_its_slot():
    fp = Footprints(pages=2, thp=False, started=False)
    _, (session, _d) = _state_after([
        {"op": "write", "mm": 0, "vpn": 0, "value": 5},
        {"op": "swapout", "mm": 0, "vpn": 0},
    ])
    pte = session.kernel.state.mms[0].ptes[0]
    assert ("s", pte.slot) in fp.footprint(session, {"op": "swapin", "mm": 0, "vpn": 0})


def test_writes_of_different_values_are_one_step_for_sleep_sets():
    a = por.ident({"op": "write", "mm": 0, "vpn": 1, "value": 3})
    b = por.ident({"op": "write", "mm": 0, "vpn": 1, "value": 4})
    c = por.ident({"op": "write", "mm": 1, "vpn": 1, "value": 3})
    assert a == b != c


def test_cli_no_reduction_explores_the_same_states(capsys):
    argv = ["verify", "--ruleset", "current", "--depth", "3", "--pages", "2", "--json", "--quiet"]
    assert main(argv) == 0
    reduced = json.loads(capsys.readouterr().out)
    assert main(argv + ["--no-reduction"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert reduced["reduction"] is True and plain["reduction"] is False
    assert reduced["states_per_depth"] == plain["states_per_depth"]
    assert reduced["transitions"] < plain["transitions"]


@pytest.mark.parametrize("mode", ["introduced", "differential"])
def test_check_pass_with_pre_and_post_image_reduces_to_the_same_states(mode):
    # review/check_explore.JointModel: two rule sets side by side (here v5.9 as the
    # "post-image", current as the "pre-image": they differ on R/O pins after fork)

    bounds = Bounds(depth=3, pages=2)
    runs = [explore(JointModel(PRESETS["v5.9"], PRESETS["current"], bounds, mode), "v5.9",
                    bounds, all_clauses=True, reduce=reduce) for reduce in (False, True)]
    plain, reduced = runs
    assert reduced.states_per_depth == plain.states_per_depth
    assert {f.id: f.length for f in reduced.findings} == {f.id: f.length for f in plain.findings}
    assert plain.findings  # the two rule sets do differ within the bound
    assert reduced.transitions < plain.transitions


def test_refused_steps_and_flag_flips_read_and_write_narrowly():
    fp = Footprints(pages=2, thp=False, started=False)
    _, (session, _d) = _state_after([{"op": "write", "mm": 0, "vpn": 1, "value": 5}])

    def dependent(a, b):
        return por.dependent(*footprint_pair(fp, session, a, b))

    swapin0 = {"op": "swapin", "mm": 0, "vpn": 0}         # no swap entry: refused
    huge0 = {"op": "madvise", "mm": 0, "vpn": 0, "npages": 1, "advice": "hugepage"}
    merge0 = {"op": "madvise", "mm": 0, "vpn": 0, "npages": 1, "advice": "mergeable"}
    dofork0 = {"op": "madvise", "mm": 0, "vpn": 0, "npages": 1, "advice": "dofork"}
    ksm = {"op": "ksm_merge", "mm": 0, "vpn": 0, "mm2": 0, "vpn2": 1}  # not mergeable: refused
    migrate0 = {"op": "migrate", "mm": 0, "vpn": 0}        # nothing mapped: refused
    write0 = {"op": "write", "mm": 0, "vpn": 0, "value": 6}
    assert not dependent(swapin0, huge0)       # reads the entry; writes a VMA flag
    assert not dependent(swapin0, migrate0)    # two refusals
    assert not dependent(huge0, dofork0)       # different flags
    assert dependent(huge0, huge0)
    assert not dependent(ksm, huge0)
    assert dependent(ksm, merge0)              # VM_MERGEABLE is what it reads
    assert dependent(swapin0, write0)          # the write maps a page there
    # page 1 holds a present page: its swap-out is not refused, and writes all of it
    swapout1 = {"op": "swapout", "mm": 0, "vpn": 1}
    huge1 = {"op": "madvise", "mm": 0, "vpn": 1, "npages": 1, "advice": "hugepage"}
    assert dependent(swapout1, huge1)


def footprint_pair(fp, session, a, b):
    masks = por.footprint_masks(fp, session, [a, b])
    return masks[0], masks[1]


def test_independence_check_catches_a_refusal_that_forgets_its_folio(monkeypatch):
    # a refused swapin reads its PTE, which another process's swap-out of a shared
    # folio rewrites (rmap walk): without the folio in its reads it would commute
    narrow = Footprints._narrow

    def forgetful(self, session, obj):
        found = narrow(self, session, obj)
        if found is None:
            return None
        reads, writes = found
        return frozenset(t for t in reads if t[0] not in ("f", "s")), writes
    monkeypatch.setattr(Footprints, "_narrow", forgetful)
    _, problems = check_independence(PRESETS["current"], Bounds(depth=3, pages=2), states=12)
    assert problems


def test_thp_block_is_split_into_pages_only_once_it_has_a_page_table():
    fp = Footprints(pages=2, thp=True, started=False)
    b = Bounds(depth=2, pages=2, thp=True, start=(
        {"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "thp": True},
        {"op": "write", "mm": 0, "vpn": 0, "value": 5}))
    model = SpecModel(PRESETS["current"], b)
    (session, driver), _, _ = model.initial()
    assert 0 in session.kernel.state.mms[0].pmds          # a PMD-mapped THP
    assert not fp.per_page(session, 0, 1)
    read1 = fp.footprint(session, {"op": "read", "mm": 0, "vpn": 1})
    huge0 = fp.access(session, {"op": "madvise", "mm": 0, "vpn": 0, "npages": 1,
                                "advice": "hugepage"})
    assert ("p", 0, ("block", 0)) in read1 and huge0[0] == huge0[1]  # whole block, not narrowed
    canon.apply(session, parse_step({"op": "split_pmd", "mm": 0, "vpn": 0}, 2))
    m = session.kernel.state.mms[0]
    assert 0 in m.pte_tables and 0 not in m.pmds          # mapped by PTEs now
    assert fp.per_page(session, 0, 1)
    # the pages of the THP still share its folio: a write to one conflicts with a read
    # of the other, but a refused swap-in of one does not conflict with a flag flip
    w0 = fp.footprint(session, {"op": "write", "mm": 0, "vpn": 0, "value": 6})
    r1 = fp.footprint(session, {"op": "read", "mm": 0, "vpn": 1})
    assert not w0.isdisjoint(r1) and ("p", 0, 1) in r1
    masks = por.footprint_masks(fp, session, [
        {"op": "swapin", "mm": 0, "vpn": 1},
        {"op": "madvise", "mm": 0, "vpn": 1, "npages": 1, "advice": "nohugepage"}])
    assert not por.dependent(*masks)


# --- check_writes: every change a step makes is in its footprint's writes ------------

@pytest.mark.parametrize("preset", ["v5.7", "v5.8", "v5.9", "v5.18", "v5.19", "current"])
def test_every_step_writes_only_what_its_footprint_says(preset):
    checked, problems = check_writes(PRESETS[preset], Bounds(depth=3, pages=2, pins=2))
    assert checked > 20_000
    assert problems == []


def test_every_step_on_a_thp_writes_only_what_its_footprint_says():
    # rmap walks split the other process's PMD and rewrite its entries
    checked, problems = check_writes(PRESETS["current"], Bounds(depth=3, pages=2, thp=True))
    assert checked > 10_000
    assert problems == []


def test_write_check_catches_a_footprint_without_folios(monkeypatch):
    # a swap-out from one process rewrites the other's PTE through the shared folio
    monkeypatch.setattr(Footprints, "_folio", staticmethod(lambda out, st, fid: None))
    _, problems = check_writes(PRESETS["current"], Bounds(depth=3, pages=2))
    assert any("PTE at vpn" in p or "folio" in p for p in problems)


def test_write_check_catches_a_flag_flip_that_names_the_wrong_flag(monkeypatch):
    monkeypatch.setitem(por._FLAG_ADVICE, "dontfork", "wipe")
    _, problems = check_writes(PRESETS["current"], Bounds(depth=2, pages=2))
    assert any("'op', 'madvise'" in p and "dontfork" in p for p in problems)


def test_write_check_catches_a_step_narrowed_as_a_refusal_that_is_not_one(monkeypatch):
    # a write to an unmapped page faults a page in: it is no refusal
    monkeypatch.setattr(por, "_NARROW_OPS", por._NARROW_OPS | {"write"})
    _, problems = check_writes(PRESETS["current"], Bounds(depth=2, pages=2))
    assert any("'op', 'write'" in p for p in problems)


def test_write_check_catches_a_forgotten_reference_namespace(monkeypatch):
    footprint = Footprints.footprint
    monkeypatch.setattr(Footprints, "footprint", lambda self, s, o: frozenset(
        t for t in footprint(self, s, o) if t != por.REF_NAMESPACE))
    _, problems = check_writes(PRESETS["current"], Bounds(depth=2, pages=1))
    assert any("taken or dropped" in p for p in problems)


def test_on_demand_footprint_checks_exit_1_on_a_problem(monkeypatch, capsys):
    args = ["--depth", "3", "--presets", "current", "--only", "writes"]
    assert por_check.main(args) == 0
    assert "total writes" in capsys.readouterr().out
    monkeypatch.setattr(Footprints, "_folio", staticmethod(lambda out, st, fid: None))
    assert por_check.main(args) == 1
    assert "which its footprint does not write" in capsys.readouterr().out
