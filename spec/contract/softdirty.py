"""The contract's handlers for soft-dirty tracking: clear_softdirty starts it, the
softdirty query checks the clause, and ksm_merge clears what it promised (replace_page
maps the KSM page with a fresh PTE). The pages a process wrote since are recorded by
ProcessMemory._store (memory.py); the clause is in spec/contract/__init__.py.
"""
from __future__ import annotations

from spec.clauses import Violation


class SoftDirty:
    """Contract's handlers of the soft-dirty operations."""

    def _clear_softdirty(self, index, a, result, out):
        mm = a["mm"]
        p = self.procs.get(mm)
        if p is not None:
            p.sd_tracking = True
            p.sd_written.clear()
            # clear_refs leaves a writable entry of a maybe-pinned page alone, soft-dirty
            # bit and all (pte_is_pinned, 9348b73c2e1b, v5.11): the process's own pins
            bound = self._bound
            p.sd_skip = {vpn for vpn in p.mem
                         if any(r.kind == "pin" for r in bound.get((mm, vpn), ()))} \
                if bound else set()

    def _softdirty(self, index, a, result, out):
        mm, vpn = a["mm"], a["vpn"]
        p = self.procs.get(mm)
        if p is None or not p.sd_tracking or vpn not in p.sd_written or result.value:
            return
        out.append(Violation("softdirty", index,
                             f"mm {mm} wrote vpn {vpn} after clear_softdirty, but its "
                             f"soft-dirty bit reads 0"))

    def _ksm_merge(self, index, a, result, out):
        # replace_page maps the KSM page with a fresh PTE: no soft-dirty bit
        for mm, vpn in ((a["mm"], a["vpn"]), (a["mm2"], a["vpn2"])):
            p = self.procs.get(mm)
            if p is not None:
                p.sd_written.discard(vpn)
