"""Migration: entry types, restore of exclusivity, refusal by references."""
from __future__ import annotations

import pytest

from spec.result import Result

from tests.spec.kernel_util import folio, kernel, pte, step, violations, written




def test_migrate_moves_the_data_and_keeps_a_writable_exclusive_mapping():
    k = written()
    old = pte(k, 0, 0).folio
    assert step(k, "migrate", mm=0, vpn=0) == Result()
    assert ("migrate.entry", "write") in k.outcomes
    p = pte(k, 0, 0)
    assert p.folio != old and old not in k.state.folios and p.writable
    assert folio(k, 0, 0).anon_exclusive == [True] and k.peek(0, 0) == 1
    assert not violations(k)


@pytest.mark.parametrize("preset,entry,exclusive", [("current", "read_exclusive", True),
                                                    ("v5.18", "read", False)])
def test_readonly_exclusive_page_uses_the_readable_exclusive_entry(preset, entry, exclusive):
    k = written(preset)
    step(k, "mprotect", mm=0, vpn=0, npages=1, write=False)
    step(k, "migrate", mm=0, vpn=0)
    assert ("migrate.entry", entry) in k.outcomes
    assert folio(k, 0, 0).anon_exclusive == [exclusive] and not pte(k, 0, 0).writable


def test_shared_page_migrates_for_every_mapper_as_readable():
    k = written()
    step(k, "fork", mm=0, child=1)
    step(k, "migrate", mm=1, vpn=0)
    assert pte(k, 0, 0).folio == pte(k, 1, 0).folio
    assert [o for o in k.outcomes if o[0] == "migrate.entry"] == [("migrate.entry", "read")] * 2
    assert folio(k, 0, 0).mapcount == [2] and not violations(k)


@pytest.mark.parametrize("preset", ["v5.9", "current"])
def test_pinned_page_is_not_migrated(preset):
    k = written(preset)
    step(k, "pin", mm=0, vpn=0, write=True, longterm=True, id="p")
    before = k.state.key()
    assert step(k, "migrate", mm=0, vpn=0).status == "refused"
    assert k.state.key() == before       # restored exactly
    if preset == "current":
        assert ("rmap.try_share", "refuse") in k.outcomes


def test_foll_get_blocks_migration_and_exclusivity_is_restored_from_the_entry():
    k = written()
    step(k, "get", mm=0, vpn=0, id="g")
    assert step(k, "migrate", mm=0, vpn=0).status == "refused"
    assert ("rmap.try_share", "share") in k.outcomes     # unmapped, then the freeze failed
    assert folio(k, 0, 0).anon_exclusive == [True] and pte(k, 0, 0).writable
    assert not violations(k)


def test_pmd_mapped_thp_migrates_whole():
    k = written(thp=True)
    old = k.state.mms[0].pmds[0].folio
    assert step(k, "migrate", mm=0, vpn=2) == Result()
    pmd = k.state.mms[0].pmds[0]
    assert pmd.folio != old and pmd.writable
    f = k.state.folios[pmd.folio]
    assert f.nr == 4 and f.anon_exclusive[0] and f.entire_mapcount == 1
    assert [k.peek(0, v) for v in range(4)] == [1, 0, 0, 0] and not violations(k)


def test_nothing_mapped_is_refused():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1)
    assert step(k, "migrate", mm=0, vpn=0).status == "refused"
