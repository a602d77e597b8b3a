"""Page migration (mm/migrate.c, mm/rmap.c try_to_migrate_one, mm/huge_memory.c
set_pmd_migration_entry / remove_migration_pmd).

    try_to_migrate        every mapping of the folio becomes a migration entry. An
                          exclusive page must be shared first (rmap.try_share; fails iff
                          maybe pinned: "migration will fail early", 6c287605fd56 §I.3).
                          The entry type is the migrate.entry point: writable ->
                          SWP_MIGRATION_WRITE, else exclusive -> READ_EXCLUSIVE, else READ.
    folio_migrate_mapping the reference freeze: any reference beyond the mappings' (and
                          the swap cache's) makes migration fail with -EAGAIN — pins and
                          FOLL_GET references block it in every era
    remove_migration_pte  restore: RMAP_EXCLUSIVE iff the entry was writable or
                          readable-exclusive; writable iff a writable entry (maybe_mkwrite)

Migration entries exist only inside this step in the model (a step is atomic), so
the migration-entry invariant is checked on the state the step leaves.

Above spec/ops/huge_pmd.py; below spec/ops/thp.py, whose split_folio freezes a THP's
mappings into migration entries with try_to_migrate and restores them with
remove_migration_pte.
"""
from __future__ import annotations

from spec import primitives as P
from spec.ops.huge_pmd import split_huge_pmd
from spec.ops.pgtable import install_pte, on_mapped_folio
from spec.result import Result
from spec.state import HPAGE_NR, MIGRATION, PRESENT, VM_WRITE, Folio, Mm, Pte


def _entry_type(k, folio: Folio, i: int, pte: Pte, is_pmd: bool, mm: Mm, vm_flags: int,
                anon_exclusive: bool, reason: str) -> str:
    ctx = P.page_ctx(k, folio, i, pte, is_pmd, mm, vm_flags, reason=reason)
    ctx.anon_exclusive = anon_exclusive
    return k.ask("migrate.entry", ctx)


def try_to_migrate(k, folio: Folio, reason: str):
    """try_to_migrate(folio, TTU_SPLIT_FREEZE for THP splits): returns the addresses now
    holding migration entries [(mm, addr, is_pmd)], or None after restoring them when an
    exclusive page could not be shared."""
    st = k.state
    done: list[tuple[Mm, int, bool]] = []
    for mm, addr, pte, is_pmd in list(st.mappings(folio.id)):
        if pte.kind != PRESENT:
            continue
        fl = mm.vmas.get(addr, 0)
        if is_pmd:
            block = addr // HPAGE_NR
            ae = folio.anon_exclusive[0]
            ctx = P.page_ctx(k, folio, 0, pte, True, mm, fl)
            if ae and not P.try_share_anon_rmap(k, folio, 0, True, reason, ctx):
                if reason == "thp_freeze":
                    # __split_huge_pmd_locked: freeze = false, split only
                    split_huge_pmd(k, mm, block)
                    # the PTEs are then tried below, by the same rules
                    if not _ptes_of_block(k, folio, mm, block, reason, done):
                        _restore(k, folio, done)
                        return None
                    continue
                _restore(k, folio, done)
                return None
            kind = _entry_type(k, folio, 0, pte, True, mm, fl, ae, reason)
            del mm.pmds[block]
            if reason == "thp_freeze":
                # frozen PMD split: one PTE migration entry per subpage
                P.folio_get(folio, HPAGE_NR - 1)
                for i in range(HPAGE_NR):
                    folio.mapcount[i] += 1
                folio.entire_mapcount -= 1
                for i in range(HPAGE_NR):
                    install_pte(mm, addr + i, Pte(MIGRATION, folio.id, i, dirty=pte.dirty,
                                                  migration=kind))
                    P.remove_rmap(k, folio, i, False)
                    P.folio_put(k, folio)
                    done.append((mm, addr + i, False))
            else:
                mm.pmds[block] = Pte(MIGRATION, folio.id, 0, dirty=pte.dirty, migration=kind)
                P.remove_rmap(k, folio, 0, True)
                P.folio_put(k, folio)
                done.append((mm, addr, True))
            continue
        if not _migrate_pte(k, folio, mm, addr, pte, reason, done):
            _restore(k, folio, done)
            return None
    return done


def _ptes_of_block(k, folio, mm, block, reason, done) -> bool:
    base = block * HPAGE_NR
    for v in range(base, base + HPAGE_NR):
        pte = mm.ptes.get(v)
        if pte is not None and pte.kind == PRESENT and pte.folio == folio.id:
            if not _migrate_pte(k, folio, mm, v, pte, reason, done):
                return False
    return True


def _migrate_pte(k, folio, mm, vpn, pte, reason, done) -> bool:
    """try_to_migrate_one for one PTE: clear it, share an exclusive page (or back off and
    restore), install the migration entry, drop the mapping."""
    i = pte.subpage
    ae = folio.anon_exclusive[i]
    fl = mm.vmas.get(vpn, 0)
    if ae:
        ctx = P.page_ctx(k, folio, i, pte, False, mm, fl)
        if not P.try_share_anon_rmap(k, folio, i, False, reason, ctx):
            return False  # set_pte_at(orig): the PTE stays as it was
    kind = _entry_type(k, folio, i, pte, False, mm, fl, ae, reason)
    mm.ptes[vpn] = Pte(MIGRATION, folio.id, i, dirty=pte.dirty, migration=kind)
    P.remove_rmap(k, folio, i, False)
    P.folio_put(k, folio)
    done.append((mm, vpn, False))
    return True


def _restore(k, folio: Folio, done) -> None:
    """remove_migration_ptes(folio, folio): migration failed; map the old folio again."""
    for mm, addr, is_pmd in done:
        remove_migration_pte(k, mm, addr, is_pmd, folio, None)


def remove_migration_pte(k, mm: Mm, addr: int, is_pmd: bool, target: Folio,
                         subpage: int | None) -> None:
    """remove_migration_pte / remove_migration_pmd: map `target` (subpage: the entry's
    own when None) where the migration entry is."""
    table = mm.pmds if is_pmd else mm.ptes
    key = addr // HPAGE_NR if is_pmd else addr
    entry = table[key]
    i = entry.subpage if subpage is None else subpage
    kind = entry.migration
    writable = kind == "write" and bool(mm.vmas.get(addr, 0) & VM_WRITE)
    exclusive = target.anon and not target.ksm and kind != "read"
    P.folio_get(target)
    P.add_anon_rmap(k, target, i, is_pmd, exclusive)
    pte = P.mk_present(target, i, writable, entry.dirty)
    if is_pmd:
        table[key] = pte
    else:
        install_pte(mm, addr, pte)


def migrate_folio(k, folio: Folio) -> bool:
    """migrate_pages for one folio: unmap, freeze the references, copy, remap."""
    P.folio_get(folio)                     # isolation: folio_isolate_lru's reference
    entries = try_to_migrate(k, folio, "migrate")
    if entries is None:
        P.folio_put(k, folio)
        return False
    expected = 1 + (folio.nr if folio.swapcache else 0)
    if folio.refcount != expected:
        # folio_migrate_mapping: folio_ref_freeze failed (-EAGAIN): extra references
        _restore(k, folio, entries)
        P.folio_put(k, folio)
        return False
    st = k.state
    new = st.alloc_folio(folio.nr)
    new.data = list(folio.data)            # folio_migrate_copy
    new.ksm = folio.ksm                    # ksm_migrate_page: the stable node follows
    if folio.swapcache:                    # folio_migrate_mapping: the swap cache follows
        new.swapcache = folio.swapcache
        st.slots[folio.swapcache].folio = new.id
        folio.swapcache = 0
        new.refcount = new.nr
        folio.refcount = 0
    for mm, addr, is_pmd in entries:
        remove_migration_pte(k, mm, addr, is_pmd, new, None)
    P.free_folio(k, folio)
    return True


def op_migrate(k, args) -> Result:
    return on_mapped_folio(k, args, migrate_folio)
