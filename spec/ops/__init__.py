"""The operations of the replay table, one module per kernel area.

OPS maps each op name of DESIGN.md's replay table to `fn(kernel, args) -> Result`.
"""
from __future__ import annotations

from spec.ops.fault import op_read, op_write
from spec.ops.fork import op_fork
from spec.ops.gup import op_dma_read, op_dma_write, op_get, op_pin, op_put, op_unpin
from spec.ops.ksm import op_ksm_merge
from spec.ops.madvise import op_madvise
from spec.ops.migrate import op_migrate
from spec.ops.swap import op_swapin, op_swapout
from spec.ops.thp import op_split_folio, op_split_pmd
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
