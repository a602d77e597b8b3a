"""GUP (mm/gup.c): pin (FOLL_PIN: pin_user_pages*, R/O or R/W, FOLL_LONGTERM or not),
get (FOLL_GET: R/O as vmsplice's iov_iter_get_pages, or R/W as an O_DIRECT read),
unpin, put, the device's dma_read / dma_write through a reference, and poke (a
FOLL_FORCE write through /proc/pid/mem or ptrace: access_remote_vm).

GUP-fast (pin/get with fast=true: internal_get_user_pages_fast): a lockless walk with no
VMA that takes the page of a present, accessible, non-special entry allowing the
access (pte_access_permitted; the zero page is special, PROT_NONE entries are
protnone) unless the gup.fast point backs off; everything else takes the slow path.
The reference records whether the slow path would have taken that very page as it
was (Ref.slow_ok: the gup-fast-as-slow invariant).

__get_user_pages, one page: check_vma_flags (FOLL_WRITE needs VM_WRITE, or FOLL_FORCE in
a private mapping; a read needs VM_READ, or FOLL_FORCE; v6.5: no FOLL_LONGTERM write pin
of a shared mapping of a file that needs dirty tracking), then loop follow_page_mask /
faultin_page until a page is returned:
  - nothing mapped or a swap entry: fault in (FAULT_FLAG_WRITE for FOLL_WRITE);
  - FOLL_WRITE on a R/O entry: the gup.follow_write point (can_follow_write_pte): follow
    it as is, or a write fault (COW) first; after a write fault in a VMA without
    VM_WRITE the call has broken COW (FOLL_COW, v4.9-v5.19);
  - R/O GUP on a R/O entry: the gup.unshare point (gup_must_unshare: v5.19 'mm/gup:
    trigger FAULT_FLAG_UNSHARE when R/O-pinning a possibly shared anonymous page';
    v6.2 'mm/gup: reliable R/O long-term pinning in COW mappings' adds the zero page
    and page cache); "unshare" faults with FAULT_FLAG_UNSHARE and retries;
  - v5.8 only: should_force_cow_break (17839856fd58 'gup: document and work around "COW
    can break either way" issue'): any GUP in a COW mapping acts as FOLL_WRITE — the
    gup.cow_break point, asked once per call.
Then try_grab_page: FOLL_PIN pins (pin_page), FOLL_GET takes a reference. FOLL_PIN
sets MMF_HAS_PINNED on the mm first (mm_set_has_pinned_flag; 008cfe4418b3 'mm:
Introduce mm_struct.has_pinned', v5.9). A FOLL_FORCE write to hugetlb is refused
(docs/limitations.md).

Above spec/ops/fault.py: GUP faults pages in through handle_mm_fault.
"""
from __future__ import annotations

from spec import primitives as P
from spec.decisions import DecisionContext
from spec.errors import StepError
from spec.result import EFAULT, OK, Result
from spec.ops.fault import handle_mm_fault
from spec.state import HPAGE_NR, PRESENT, SWAP, VM_HUGETLB, VM_READ, VM_SHARED, VM_WRITE, ZERO, \
    ZERO_FOLIO, Ref

# __get_user_pages loops until follow_page_mask returns a page, faulting it in (or
# unsharing it) between tries: a fault must make the next try succeed. A rule set under
# which it does not (can_follow_write_pte still refusing the entry the COW break left,
# gup_must_unshare still asking to unshare the page the unshare made exclusive) would
# loop for ever; a correct one needs at most a swap-in, an unshare and a COW break.
# After MAX_RETRIES the model reports gup-progress and takes the page, so that the
# trace goes on.
MAX_RETRIES = 8


def check_vma_flags(k, mm, vpn: int, fl: int | None, write: bool, pin: bool,
                    longterm: bool, force: bool) -> bool:
    """check_vma_flags: whether GUP may go on (False: -EFAULT)."""
    if fl is None:
        return False
    if write:
        if not fl & VM_WRITE and (not force or fl & (VM_SHARED | VM_HUGETLB)):
            return False
        if pin and longterm and fl & VM_SHARED and k.rules.feature("longterm_write_file_refused") \
                and vpn in mm.files and k.state.files.get(mm.files[vpn][0]) == "file":
            return False       # writable_file_mapping_allowed (v6.5)
    elif not fl & VM_READ and not force:
        return False
    return True


def get_user_page(k, mm, vpn: int, write: bool, pin: bool, longterm: bool,
                  fast: bool = False, force: bool = False):
    """(folio id or ZERO_FOLIO, subpage, taken by GUP-fast, slow path would have taken
    it) with the reference taken, or None (-EFAULT)."""
    has_pinned = pin and k.rules.feature("mm_has_pinned")
    if fast:
        if has_pinned:
            mm.has_pinned = True          # internal_get_user_pages_fast sets it first
        got = gup_fast(k, mm, vpn, write, pin, longterm, force)
        if got is not None:
            return got
    fl = mm.vmas.get(vpn)
    if not check_vma_flags(k, mm, vpn, fl, write, pin, longterm, force):
        return None
    if has_pinned:
        mm.has_pinned = True
    foll_write = write
    # should_force_cow_break is asked of R/O GUP only: no context built for a write
    if not write and k.ask("gup.cow_break", DecisionContext(
            foll_pin=pin, foll_get=not pin, foll_longterm=longterm,
            vm_write=bool(fl & VM_WRITE), cow_mapping=not fl & VM_SHARED,
            foll_force=force)) == "break":
        foll_write = True                 # FOLL_WRITE added: a COW-breaking fault
    # A write fault returned VM_FAULT_WRITE in this call: faultin_page sets FOLL_COW on
    # it ("do_wp_page has broken COW"), v4.9-v5.19. do_wp_page returns it, and so does
    # do_swap_page's write fault (reuse, or do_wp_page); filling an empty entry
    # (do_anonymous_page, do_cow_fault) does not: a forced write into a R/O private
    # mapping then takes a second, do_wp_page, fault.
    cowed = False
    st = k.state
    for _ in range(MAX_RETRIES):
        pte, is_pmd = st.entry(mm, vpn)
        if pte is None or (pte.kind != PRESENT and pte.kind != ZERO):
            handle_mm_fault(k, mm, vpn, write=foll_write)
            cowed = cowed or (foll_write and pte is not None and pte.kind == SWAP)
            continue
        if foll_write and (pte.kind == ZERO or not pte.writable):
            if not _follow_write(k, mm, vpn, fl, pte, is_pmd, pin, longterm, force,
                                 cowed):
                handle_mm_fault(k, mm, vpn, write=True)
                cowed = True
                continue
        if pte.kind == ZERO:
            if not foll_write:
                ctx = P.page_ctx(k, None, 0, pte, is_pmd, mm, fl, foll_pin=pin,
                                 foll_get=not pin, foll_longterm=longterm)
                if k.ask("gup.unshare", ctx) == "unshare":
                    handle_mm_fault(k, mm, vpn, unshare=True)
                    continue
            return ZERO_FOLIO, 1 if is_pmd else 0, False, True   # never refcounted by GUP
        folio = st.folios[pte.folio]
        i = vpn % HPAGE_NR if is_pmd else pte.subpage
        if not foll_write and not pte.writable:
            ctx = P.page_ctx(k, folio, i, pte, is_pmd, mm, fl, foll_pin=pin,
                             foll_get=not pin, foll_longterm=longterm)
            if k.ask("gup.unshare", ctx) == "unshare":
                handle_mm_fault(k, mm, vpn, unshare=True)
                continue
        break
    else:
        k.stalled = (f"GUP on mm {mm.id} vpn {vpn} faulted the page in {MAX_RETRIES} times "
                     f"and the rule set still refused it ({'write' if foll_write else 'read'}"
                     f"{', FOLL_FORCE' if force else ''}): the call never returns")
        pte, is_pmd = st.entry(mm, vpn)
        if pte is None or (pte.kind != PRESENT and pte.kind != ZERO):
            return None     # no page to take after all: the call fails (-EFAULT)
        if pte.kind == ZERO:
            return ZERO_FOLIO, 1 if is_pmd else 0, False, True
        folio = st.folios[pte.folio]
        i = vpn % HPAGE_NR if is_pmd else pte.subpage
    _grab(k, folio, i, pin)
    return folio.id, i, False, True


def _follow_write(k, mm, vpn: int, fl: int, pte, is_pmd: bool, pin: bool, longterm: bool,
                  force: bool, cowed: bool) -> bool:
    """The gup.follow_write point for a R/O entry (the zero page included)."""
    folio = None if pte.kind == ZERO else k.state.folios.get(pte.folio)
    i = vpn % HPAGE_NR if is_pmd else pte.subpage
    ctx = P.page_ctx(k, folio, i, pte, is_pmd, mm, fl, foll_pin=pin, foll_get=not pin,
                     foll_write=True, foll_longterm=longterm, foll_force=force,
                     foll_cow=cowed and not fl & VM_WRITE)
    return k.ask("gup.follow_write", ctx) == "follow"


def _grab(k, folio, i: int, pin: bool) -> None:
    """try_grab_page / try_grab_folio."""
    if pin:
        P.pin_page(k, folio, i)
    else:
        P.folio_get(folio)


def gup_fast(k, mm, vpn: int, write: bool, pin: bool, longterm: bool, force: bool):
    """internal_get_user_pages_fast for one page: the lockless walk, then the gup.fast
    point; None when it backs off to the slow path."""
    pte, is_pmd = k.state.entry(mm, vpn)
    if pte is None or pte.kind != PRESENT:
        return None                       # none, swap, migration: no page; zero: pte_special
    fl = mm.vmas.get(vpn)
    if fl is None or not fl & VM_READ or (write and not pte.writable):
        return None                       # pte_protnone / !pte_access_permitted
    folio = k.state.folios[pte.folio]
    i = vpn % HPAGE_NR if is_pmd else pte.subpage
    # no VMA: the context knows the page and the entry only
    ctx = P.page_ctx(k, folio, i, pte, is_pmd, mm, foll_pin=pin, foll_get=not pin,
                     foll_write=write, foll_longterm=longterm, foll_force=force)
    if k.ask("gup.fast", ctx) == "fallback":
        return None
    slow_ok = _slow_would_take(k, mm, vpn, fl, pte, folio, i, is_pmd, write, pin, longterm,
                               force)
    _grab(k, folio, i, pin)
    return folio.id, i, True, slow_ok


def _slow_would_take(k, mm, vpn: int, fl: int, pte, folio, i: int, is_pmd: bool, write: bool,
                     pin: bool, longterm: bool, force: bool) -> bool:
    """Whether the slow path, in this state, would take this very page without a fault
    or an unshare first: check_vma_flags, should_force_cow_break (v5.8) and
    gup_must_unshare with the VMA. Asked of the rule set without logging: GUP-fast did
    not call them."""
    if not check_vma_flags(k, mm, vpn, fl, write, pin, longterm, force):
        return False
    if write or pte.writable:
        return True
    rules = k.rules
    vma = DecisionContext(foll_pin=pin, foll_get=not pin, vm_write=bool(fl & VM_WRITE),
                          cow_mapping=not fl & VM_SHARED)
    if rules.ask("gup.cow_break", vma) == "break":
        return False
    ctx = P.page_ctx(k, folio, i, pte, is_pmd, mm, fl, foll_pin=pin, foll_get=not pin,
                     foll_longterm=longterm)
    return rules.ask("gup.unshare", ctx) == "pin"


def _new_ref(k, args, pin: bool) -> Result:
    mm = k.mm(args["mm"])
    rid = args["id"]
    if rid in k.state.refs:
        raise StepError(f"reference id {rid!r} is already in use")
    write = bool(args.get("write", False))
    longterm = bool(args.get("longterm", False)) if pin else False
    got = get_user_page(k, mm, args["vpn"], write, pin, longterm, args.get("fast", False),
                        args.get("force", False))
    if got is None:
        return EFAULT
    folio, i, fast, slow_ok = got
    k.state.refs[rid] = Ref(rid, pin, write, longterm, folio, i, mm.id, args["vpn"], fast,
                            slow_ok)
    return OK


def op_pin(k, args) -> Result:
    return _new_ref(k, args, True)


def op_get(k, args) -> Result:
    return _new_ref(k, args, False)


def _ref(k, rid: str) -> Ref:
    ref = k.state.refs.get(rid)
    if ref is None:
        raise StepError(f"unknown reference id {rid!r}")
    return ref


def op_unpin(k, args) -> Result:
    ref = _ref(k, args["id"])
    if not ref.pin:
        raise StepError(f"unpin of {ref.id!r}, a FOLL_GET reference (use put)")
    del k.state.refs[ref.id]
    if ref.folio != ZERO_FOLIO:
        folio = k.state.folios.get(ref.folio)
        if folio is not None:
            P.unpin_page(k, folio, ref.subpage)
    return OK


def op_put(k, args) -> Result:
    ref = _ref(k, args["id"])
    if ref.pin:
        raise StepError(f"put of {ref.id!r}, a FOLL_PIN pin (use unpin)")
    del k.state.refs[ref.id]
    if ref.folio != ZERO_FOLIO:
        folio = k.state.folios.get(ref.folio)
        if folio is not None:
            P.folio_put(k, folio)
    return OK


def op_dma_read(k, args) -> Result:
    return Result("ok", k.dma_peek(args["id"]))


def write_page(k, folio_id: int, i: int, value: int) -> None:
    """A write into the page a reference holds: the device's (dma_write) or the kernel's
    on behalf of poke. The zero page holds what is written to it (the zero-page clause
    reports that); a freed folio is a use-after-free, reported by spec.invariants."""
    st = k.state
    if folio_id == ZERO_FOLIO:
        st.zero_data = (value, st.zero_data[1]) if i == 0 else (st.zero_data[0], value)
        return
    folio = st.folios.get(folio_id)
    if folio is not None:
        folio.data[i] = value


def op_dma_write(k, args) -> Result:
    ref = _ref(k, args["id"])
    if not ref.write:
        raise StepError(f"dma_write through {ref.id!r}, which is not a R/W pin or a R/W FOLL_GET "
                        "reference")
    write_page(k, ref.folio, ref.subpage, args["value"])
    return OK


def op_poke(k, args) -> Result:
    """access_remote_vm (/proc/pid/mem, ptrace POKEDATA): get_user_pages_remote with
    FOLL_FORCE | FOLL_WRITE (FOLL_GET), the write through the kernel's mapping of the
    page (copy_to_user_page, set_page_dirty_lock), put_page."""
    mm = k.mm(args["mm"])
    got = get_user_page(k, mm, args["vpn"], True, False, False, force=True)
    if got is None:
        return EFAULT
    folio_id, i, _fast, _slow_ok = got
    write_page(k, folio_id, i, args["value"])
    if folio_id != ZERO_FOLIO:
        folio = k.state.folios.get(folio_id)
        if folio is not None:
            P.folio_put(k, folio)
    return OK
