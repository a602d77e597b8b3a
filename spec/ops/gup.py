"""GUP (mm/gup.c): pin (FOLL_PIN: pin_user_pages*, R/O or R/W, FOLL_LONGTERM or not),
get (FOLL_GET, R/O: vmsplice's iov_iter_get_pages), unpin, put, and the device's
dma_read / dma_write through a reference.

__get_user_pages, one page: check_vma_flags (FOLL_WRITE needs VM_WRITE: -EFAULT), then
loop follow_page_mask / faultin_page until a page is returned:
  - nothing mapped or a swap entry: fault in (FAULT_FLAG_WRITE for FOLL_WRITE);
  - FOLL_WRITE on a R/O entry: a write fault (COW) first (can_follow_write_pte);
  - R/O GUP on a R/O entry: the gup.unshare point (gup_must_unshare: v5.19 'mm/gup:
    trigger FAULT_FLAG_UNSHARE when R/O-pinning a possibly shared anonymous page';
    v6.2 'mm/gup: reliable R/O long-term pinning in COW mappings' adds the zero page);
    "unshare" faults with FAULT_FLAG_UNSHARE and retries;
  - v5.8 only: should_force_cow_break (17839856fd58 'gup: document and work around "COW
    can break either way" issue'): any GUP in a COW mapping acts as FOLL_WRITE — the
    gup.cow_break point, asked once per call.
Then try_grab_page: FOLL_PIN pins (pin_page), FOLL_GET takes a reference. FOLL_PIN
sets MMF_HAS_PINNED on the mm first (mm_set_has_pinned_flag; 008cfe4418b3 'mm:
Introduce mm_struct.has_pinned', v5.9). GUP-fast is not modelled separately (it falls
back to this path for everything the model has: docs/limitations.md).

Above spec/ops/fault.py: GUP faults pages in through handle_mm_fault.
"""
from __future__ import annotations

from spec import primitives as P
from spec.decisions import DecisionContext
from spec.errors import StepError
from spec.ops.fault import handle_mm_fault
from spec.result import EFAULT, OK, Result
from spec.state import HPAGE_NR, PRESENT, VM_WRITE, ZERO, ZERO_FOLIO, Ref

MAX_RETRIES = 8   # a rule set that never lets GUP succeed would livelock the kernel


def get_user_page(k, mm, vpn: int, write: bool, pin: bool, longterm: bool):
    """(folio id or ZERO_FOLIO, subpage) with the reference taken, or None (-EFAULT)."""
    fl = mm.vmas.get(vpn)
    if fl is None or (write and not fl & VM_WRITE):
        return None
    if pin and k.rules.feature("mm_has_pinned"):
        mm.has_pinned = True
    foll_write = write
    ctx = DecisionContext(foll_pin=pin, foll_get=not pin, foll_write=write,
                          foll_longterm=longterm, vm_write=bool(fl & VM_WRITE))
    if not write and k.ask("gup.cow_break", ctx) == "break":
        foll_write = True                 # FOLL_WRITE added: a COW-breaking fault
    cowed = False                         # FOLL_COW: a write fault ran in a R/O VMA
    st = k.state
    for _ in range(MAX_RETRIES):
        pte, is_pmd = st.entry(mm, vpn)
        if pte is None or (pte.kind != PRESENT and pte.kind != ZERO):
            handle_mm_fault(k, mm, vpn, write=foll_write)
            cowed = foll_write
            continue
        if foll_write and (pte.kind == ZERO or not pte.writable) and not cowed:
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
            return ZERO_FOLIO, 0          # the zero page is never refcounted by GUP here
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
        pte, is_pmd = st.entry(mm, vpn)
        if pte.kind == ZERO:
            return ZERO_FOLIO, 0
        folio = st.folios[pte.folio]
        i = vpn % HPAGE_NR if is_pmd else pte.subpage
    if pin:
        P.pin_page(k, folio, i)
    else:
        P.folio_get(folio)
    return folio.id, i


def _new_ref(k, args, pin: bool) -> Result:
    mm = k.mm(args["mm"])
    rid = args["id"]
    if rid in k.state.refs:
        raise StepError(f"reference id {rid!r} is already in use")
    write = bool(args.get("write", False)) if pin else False
    longterm = bool(args.get("longterm", False)) if pin else False
    got = get_user_page(k, mm, args["vpn"], write, pin, longterm)
    if got is None:
        return EFAULT
    folio, i = got
    k.state.refs[rid] = Ref(rid, pin, write, longterm, folio, i, mm.id, args["vpn"])
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


def op_dma_write(k, args) -> Result:
    ref = _ref(k, args["id"])
    if not ref.pin or not ref.write:
        raise StepError(f"dma_write through {ref.id!r}, which is not a R/W pin")
    folio = k.state.folios.get(ref.folio)
    if folio is not None:  # else a use-after-free, reported by spec.invariants
        folio.data[ref.subpage] = args["value"]
    return OK
