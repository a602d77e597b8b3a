"""The contract beside the kernel model: what a kernel of any era may do with the
later vocabulary (R/W FOLL_GET references and device writes through them, R/O pins of
private file pages, clear_refs next to pins) breaks no clause on any preset. Found by
`mmreview fuzz --ruleset current --max-examples 100000` before the contract allowed
them."""
from __future__ import annotations

import pytest

from spec.presets import PRESETS
from spec.run import run_trace
from spec.trace import Trace, step


LATER_CLEAN = {
    # the device write a R/W FOLL_GET reference made is its own, also after its holder
    # dropped the page (the child still maps it)
    "get-after-dontneed": [
        step("mmap", mm=0, vpn=0, npages=1), step("get", mm=0, vpn=0, id="g", write=True),
        step("fork", mm=0, child=1), step("madvise", mm=0, vpn=0, npages=1, advice="dontneed"),
        step("dma_write", id="g", value=1), step("dma_read", id="g")],
    # a R/O pin of a private file page not yet copied holds the page cache's page
    "pin-private-file-page": [
        step("mmap", mm=0, vpn=0, npages=1, backing="file"),
        step("pin", mm=0, vpn=0, write=False, longterm=False, id="p"),
        step("mmap", mm=0, vpn=0, npages=1, backing="file", shared=True),
        step("write", mm=0, vpn=0, value=1), step("dma_read", id="p")],
    # clear_refs leaves a writable pinned page alone (pte_is_pinned): no soft-dirty fault
    "clear-refs-pinned": [
        step("mmap", mm=0, vpn=0, npages=1),
        step("pin", mm=0, vpn=0, write=False, longterm=True, id="p"),
        step("mprotect", mm=0, vpn=0, npages=1, prot="r"),
        step("mprotect", mm=0, vpn=0, npages=1, prot="rw"),
        step("clear_softdirty", mm=0), step("write", mm=0, vpn=0, value=1),
        step("softdirty", mm=0, vpn=0)],
    # a second FOLL_WRITE reference on a private page already copied copies nothing
    "second-rw-get": [
        step("mmap", mm=0, vpn=0, npages=1, backing="file"),
        step("get", mm=0, vpn=0, id="g", write=True), step("dma_write", id="g", value=1),
        step("get", mm=0, vpn=0, id="h", write=True), step("read", mm=0, vpn=0)],
}


@pytest.mark.parametrize("name", LATER_CLEAN)
def test_what_the_kernel_may_do_with_the_later_vocabulary_breaks_no_clause(name):
    for preset in PRESETS:
        report = run_trace(Trace(tuple(LATER_CLEAN[name]), preset), PRESETS[preset])
        assert not report.violations, (preset, [(v.id, v.step) for v in report.violations])
