"""The operations of the replay table (spec/trace.py OPS), one module per kernel area.

OPS maps each op name to `fn(kernel, args) -> spec.result.Result`. The modules form
layers; each imports only modules listed before it (and spec.primitives, spec.state,
spec.result, spec.decisions, spec.errors, never spec.kernel):

    pgtable      install_pte, folio_at, on_mapped_folio
    swap_state   the swap cache and swap counts (mm/swap_state.c, mm/swapfile.c)
    huge_pmd     thp_eligible, split_huge_pmd; split_pmd (mm/huge_memory.c)
    zap          zap_pte_range, zap_huge_pmd, zap_page_range (mm/memory.c)
    migrate      try_to_migrate, remove_migration_pte; migrate (mm/migrate.c, mm/rmap.c)
    thp          split_huge_page, MADV_COLLAPSE; split_folio (mm/huge_memory.c,
                 mm/khugepaged.c)
    fault        handle_mm_fault and its handlers; read, write, swapin (mm/memory.c)
    reclaim      shrink_folio_list, try_to_unmap, MADV_PAGEOUT; swapout (mm/vmscan.c)
    ksm          write_protect_page, replace_page, break_ksm; ksm_merge (mm/ksm.c)
    gup          __get_user_pages; pin, get, unpin, put, dma_read, dma_write (mm/gup.c)
    fork         copy_page_range; fork (mm/memory.c, mm/huge_memory.c)
    vma          mmap, munmap, mprotect, exit (mm/mmap.c, mm/mprotect.c)
    madvise      madvise (mm/madvise.c)
"""
from __future__ import annotations

from spec.ops.fault import op_read, op_swapin, op_write
from spec.ops.fork import op_fork
from spec.ops.gup import op_dma_read, op_dma_write, op_get, op_pin, op_put, op_unpin
from spec.ops.huge_pmd import op_split_pmd
from spec.ops.ksm import op_ksm_merge
from spec.ops.madvise import op_madvise
from spec.ops.migrate import op_migrate
from spec.ops.reclaim import op_swapout
from spec.ops.thp import op_split_folio
from spec.ops.vma import op_exit, op_mmap, op_mprotect, op_munmap

OPS = {
    "mmap": op_mmap,
    "munmap": op_munmap,
    "madvise": op_madvise,
    "mprotect": op_mprotect,
    "read": op_read,
    "write": op_write,
    "fork": op_fork,
    "exit": op_exit,
    "pin": op_pin,
    "get": op_get,
    "unpin": op_unpin,
    "put": op_put,
    "dma_read": op_dma_read,
    "dma_write": op_dma_write,
    "swapout": op_swapout,
    "swapin": op_swapin,
    "migrate": op_migrate,
    "ksm_merge": op_ksm_merge,
    "split_pmd": op_split_pmd,
    "split_folio": op_split_folio,
}
