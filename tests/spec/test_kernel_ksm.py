"""KSM merge (write_protect_page, replace_page) and unmerge (break_ksm)."""
from __future__ import annotations

import pytest

from spec.result import Result

from tests.spec.kernel_util import folio, kernel, pte, step, violations


def _two_equal(preset="current"):
    k = kernel(preset)
    step(k, "mmap", mm=0, vpn=0, npages=2)
    step(k, "madvise", mm=0, vpn=0, npages=2, advice="mergeable")
    step(k, "write", mm=0, vpn=0, value=5)
    step(k, "write", mm=0, vpn=1, value=5)
    return k


def test_merge_replaces_one_page_by_the_other_readonly_and_shared():
    k = _two_equal()
    assert step(k, "ksm_merge", mm=0, vpn=0, mm2=0, vpn2=1) == Result()
    a, b = pte(k, 0, 0), pte(k, 0, 1)
    assert a.folio == b.folio and not a.writable and not b.writable
    f = folio(k, 0, 0)
    assert f.ksm and f.anon_exclusive == [False] and f.mapcount == [2]
    assert len(k.state.folios) == 1 and not violations(k)


def test_write_to_a_ksm_page_copies():
    k = _two_equal()
    step(k, "ksm_merge", mm=0, vpn=0, mm2=0, vpn2=1)
    step(k, "write", mm=0, vpn=1, value=6)
    assert ("wp.reuse", "copy") in k.outcomes
    assert (k.peek(0, 0), k.peek(0, 1)) == (5, 6) and not violations(k)


@pytest.mark.parametrize("preset,reused", [("v5.7", True), ("v5.8", True), ("v5.9", False),
                                           ("current", False)])
def test_write_to_a_ksm_page_mapped_once(preset, reused):
    """reuse_ksm_page (v5.1-v5.8): the last mapping of a KSM page reuses it on a write
    fault, and page_move_anon_rmap makes it an ordinary anon page."""
    k = _two_equal(preset)
    step(k, "ksm_merge", mm=0, vpn=0, mm2=0, vpn2=1)
    kpage = folio(k, 0, 0)
    step(k, "write", mm=0, vpn=1, value=6)          # the other mapping copies
    assert kpage.refcount == 1
    step(k, "write", mm=0, vpn=0, value=7)
    assert k.outcomes == [("wp.reuse", "reuse" if reused else "copy")]
    assert (folio(k, 0, 0) is kpage) is reused and not folio(k, 0, 0).ksm
    assert pte(k, 0, 0).writable and (k.peek(0, 0), k.peek(0, 1)) == (7, 6)
    assert not violations(k)


def test_merge_needs_mergeable_equal_present_pages():
    k = _two_equal()
    step(k, "write", mm=0, vpn=1, value=7)
    assert step(k, "ksm_merge", mm=0, vpn=0, mm2=0, vpn2=1).status == "refused"
    step(k, "mmap", mm=0, vpn=4, npages=1)
    step(k, "write", mm=0, vpn=4, value=5)
    assert step(k, "ksm_merge", mm=0, vpn=0, mm2=0, vpn2=4).status == "refused"


@pytest.mark.parametrize("preset", ["v5.9", "v5.19", "current"])
def test_pinned_page_is_not_merged(preset):
    k = _two_equal(preset)
    step(k, "pin", mm=0, vpn=1, write=False, longterm=True, id="p")
    assert step(k, "ksm_merge", mm=0, vpn=0, mm2=0, vpn2=1).status == "refused"
    assert pte(k, 0, 0).folio != pte(k, 0, 1).folio
    assert not folio(k, 0, 0).ksm                   # page 0 was unmerged again (break_cow)
    assert (k.peek(0, 0), k.peek(0, 1)) == (5, 5)


@pytest.mark.parametrize("preset,writable", [("current", False), ("v5.19", True)])
def test_unmergeable_breaks_ksm_by_unshare_or_write_fault(preset, writable):
    k = _two_equal(preset)
    step(k, "ksm_merge", mm=0, vpn=0, mm2=0, vpn2=1)
    step(k, "madvise", mm=0, vpn=0, npages=2, advice="unmergeable")
    for v in (0, 1):
        f = folio(k, 0, v)
        assert not f.ksm and pte(k, 0, v).writable is writable
    assert pte(k, 0, 0).folio != pte(k, 0, 1).folio
    assert (k.peek(0, 0), k.peek(0, 1)) == (5, 5) and not violations(k)


def test_merge_across_processes_after_fork_shares_one_page():
    k = _two_equal()
    step(k, "fork", mm=0, child=1)
    assert step(k, "ksm_merge", mm=0, vpn=0, mm2=1, vpn2=1) == Result()
    assert pte(k, 0, 0).folio == pte(k, 1, 1).folio and folio(k, 0, 0).ksm
    assert not violations(k)
