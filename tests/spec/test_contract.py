"""The contract on its own: each clause fires on hand-written observations and stays
quiet on correct ones. The contract never looks inside the kernel, so these tests feed
it the results a kernel would give (right or wrong) without running one."""
from __future__ import annotations

from dataclasses import dataclass

import re
from pathlib import Path

from spec.clauses import CLAUSES
from spec.contract import Contract
from spec.trace import step


@dataclass
class R:  # a step result as the kernel gives it
    status: str = "ok"
    value: object = None


class FakeKernel:
    """Only the user-level views the contract may use."""

    def __init__(self):
        self.mem = {}

    def peek(self, mm, vpn):
        return self.mem.get((mm, vpn), 0)


def run(*pairs, kernel=None):
    """pairs: (step, result) or step (result ok). Returns the violation ids per step."""
    c = Contract()
    seen = []
    for i, p in enumerate(pairs):
        s, r = p if isinstance(p, tuple) else (p, R())
        c.before(s, kernel)
        seen.append([v.id for v in c.observe(i, s, r, kernel)])
    return seen


def ids(seen):
    return sorted({v for vs in seen for v in vs})


MMAP = step("mmap", mm=0, vpn=0, npages=2)


def read(mm, vpn, value):
    return step("read", mm=mm, vpn=vpn), R(value=value)


def dma_read(id, value):
    return step("dma_read", id=id), R(value=value)


def dma_write(id, value):
    return step("dma_write", id=id, value=value)


def pin(mm, vpn, id, write=False, longterm=False):
    return step("pin", mm=mm, vpn=vpn, write=write, longterm=longterm, id=id)


# ------------------------------------------------------------------ isolation

def test_isolation_quiet_on_own_writes_inherited_values_and_zero():
    assert ids(run(MMAP, read(0, 0, 0), step("write", mm=0, vpn=0, value=5), read(0, 0, 5),
                   step("fork", mm=0, child=1), read(1, 0, 5),
                   step("write", mm=1, vpn=0, value=6), read(1, 0, 6), read(0, 0, 5))) == []


def test_isolation_fires_when_child_sees_parent_write_after_fork():
    seen = run(MMAP, step("write", mm=0, vpn=0, value=5), step("fork", mm=0, child=1),
               step("write", mm=0, vpn=0, value=6), read(1, 0, 6))
    assert seen[-1] == ["isolation"]


def test_dontneed_zeroes_and_wipeonfork_zeroes_in_child_dontfork_leaves_nothing():
    base = (MMAP, step("write", mm=0, vpn=0, value=5), step("write", mm=0, vpn=1, value=6))
    assert run(*base, step("madvise", mm=0, vpn=0, npages=1, advice="dontneed"),
               read(0, 0, 5))[-1] == ["isolation"]
    assert run(*base, step("madvise", mm=0, vpn=0, npages=1, advice="wipeonfork"),
               step("fork", mm=0, child=1), read(1, 0, 0), read(1, 1, 6), read(0, 0, 5))[-3:] \
        == [[], [], []]
    assert run(*base, step("madvise", mm=0, vpn=0, npages=1, advice="wipeonfork"),
               step("fork", mm=0, child=1), read(1, 0, 5))[-1] == ["isolation"]
    # a dontfork range does not exist in the child: nothing to check, no violation
    assert run(*base, step("madvise", mm=0, vpn=0, npages=1, advice="dontfork"),
               step("fork", mm=0, child=1), (step("read", mm=1, vpn=0), R("SIGSEGV")))[-1] == []


def test_refused_write_changes_nothing():
    seen = run(MMAP, (step("write", mm=0, vpn=0, value=5), R("SIGSEGV")), read(0, 0, 0))
    assert ids(seen) == []


# ------------------------------------------------------------------ pin-coherence

def test_rw_pin_coherent_both_ways():
    ok = run(MMAP, pin(0, 0, "p", write=True), step("write", mm=0, vpn=0, value=5),
             dma_read("p", 5), step("dma_write", id="p", value=9), read(0, 0, 9))
    assert ids(ok) == []
    # device read misses the process's write (the v5.8 R/W pin + fork + write bug)
    bad = run(MMAP, pin(0, 0, "p", write=True), step("fork", mm=0, child=1),
              step("write", mm=0, vpn=0, value=5), dma_read("p", 0))
    assert bad[-1] == ["pin-coherence"]
    # the holder misses the device's write
    bad = run(MMAP, pin(0, 0, "p", write=True), step("dma_write", id="p", value=9),
              read(0, 0, 0))
    assert bad[-1] == ["pin-coherence"]


def test_device_write_seen_by_forked_child_is_isolation():
    seen = run(MMAP, step("write", mm=0, vpn=0, value=5), pin(0, 0, "p", write=True),
               step("fork", mm=0, child=1), step("dma_write", id="p", value=9),
               read(0, 0, 9), read(1, 0, 9))
    assert seen[-2:] == [[], ["isolation"]]


def test_ro_shortterm_pin_on_written_memory_is_promised():
    seen = run(MMAP, step("write", mm=0, vpn=0, value=5), pin(0, 0, "p"),
               step("write", mm=0, vpn=0, value=6), dma_read("p", 5))
    assert seen[-1] == ["pin-coherence"]


def test_ro_shortterm_pin_on_never_written_memory_may_go_stale():
    seen = run(MMAP, pin(0, 0, "p"), step("write", mm=0, vpn=0, value=6), dma_read("p", 0))
    assert ids(seen) == []


def test_ro_longterm_pin_on_never_written_memory_is_promised():
    seen = run(MMAP, pin(0, 0, "p", longterm=True), step("write", mm=0, vpn=0, value=6),
               dma_read("p", 0))
    assert seen[-1] == ["pin-coherence"]


def test_unbinding_ends_the_promise_but_device_writes_stay_private():
    seen = run(MMAP, step("write", mm=0, vpn=0, value=5), pin(0, 0, "p", write=True),
               step("munmap", mm=0, vpn=0, npages=1), step("mmap", mm=0, vpn=0, npages=1),
               step("write", mm=0, vpn=0, value=6), dma_read("p", 5),
               step("dma_write", id="p", value=9), read(0, 0, 6))
    assert ids(seen) == []
    seen = run(MMAP, pin(0, 0, "p", write=True), step("madvise", mm=0, vpn=0, npages=1,
                                                      advice="dontneed"),
               step("dma_write", id="p", value=9), read(0, 0, 9))
    assert seen[-1] == ["isolation"]


def test_unpinned_id_is_forgotten():
    seen = run(MMAP, pin(0, 0, "p", write=True), step("unpin", id="p"),
               step("write", mm=0, vpn=0, value=5), read(0, 0, 5))
    assert ids(seen) == []


# ------------------------------------------------------------------ no-foreign-data

CVE = (MMAP, step("write", mm=0, vpn=0, value=5), step("fork", mm=0, child=1),
       step("get", mm=1, vpn=0, id="g"), step("exit", mm=1),
       step("write", mm=0, vpn=0, value=6))


def test_cve_2020_29374_foreign_value_through_get():
    assert run(*CVE, dma_read("g", 6))[-1] == ["no-foreign-data"]


def test_get_may_be_stale_never_foreign():
    assert ids(run(*CVE, dma_read("g", 5))) == []
    seen = run(MMAP, step("write", mm=0, vpn=0, value=5), step("get", mm=0, vpn=0, id="g"),
               step("write", mm=0, vpn=0, value=6), dma_read("g", 5), dma_read("g", 6))
    assert ids(seen) == []


def test_value_from_before_the_reference_was_taken_is_foreign():
    seen = run(MMAP, step("write", mm=0, vpn=0, value=5), step("write", mm=0, vpn=0, value=6),
               step("get", mm=0, vpn=0, id="g"), dma_read("g", 5))
    assert seen[-1] == ["no-foreign-data"]


def test_foreign_value_on_a_coherent_pin_breaks_both():
    seen = run(MMAP, step("write", mm=0, vpn=0, value=5), step("fork", mm=0, child=1),
               pin(1, 0, "p", write=True), step("write", mm=0, vpn=0, value=6),
               dma_read("p", 6))
    assert seen[-1] == ["no-foreign-data", "pin-coherence"]


# ------------------------------------------------------------------ no-loss

def test_no_loss_compares_peeks_around_the_step():
    k = FakeKernel()
    k.mem[(0, 0)] = 5

    c = Contract()
    for i, s in enumerate([MMAP, step("write", mm=0, vpn=0, value=5)]):
        c.before(s, k)
        assert c.observe(i, s, R(), k) == []
    s = step("swapout", mm=0, vpn=0)
    c.before(s, k)
    assert c.observe(2, s, R(), k) == []
    c.before(s, k)
    k.mem[(0, 0)] = 0          # the kernel lost the data
    assert [v.id for v in c.observe(3, s, R(), k)] == ["no-loss"]
    # not a no-loss op: nothing compared
    s = step("mprotect", mm=0, vpn=0, npages=1, write=False)
    c.before(s, k)
    k.mem[(0, 0)] = 7
    assert c.observe(4, s, R(), k) == []


def test_clone_is_independent():
    c = Contract()
    for i, s in enumerate([MMAP, step("write", mm=0, vpn=0, value=5),
                           pin(0, 0, "p", write=True)]):
        c.observe(i, s, R())
    d = c.clone()
    d.observe(3, step("write", mm=0, vpn=0, value=6), R())
    assert c.logical(0, 0) == 5 and d.logical(0, 0) == 6
    assert c.dma_violations("p", 6) == ["no-foreign-data", "pin-coherence"]
    assert d.dma_violations("p", 6) == []


def test_madvise_over_a_hole_still_advises_the_mapped_part():
    seen = run(MMAP, step("write", mm=0, vpn=1, value=5),
               (step("madvise", mm=0, vpn=1, npages=4, advice="dontneed"), R("ENOMEM")),
               read(0, 1, 0))
    assert ids(seen) == []


def test_device_write_through_a_sibling_pin_on_the_same_page_is_not_foreign():
    seen = run(MMAP, pin(0, 0, "w", write=True), pin(0, 0, "r"),
               step("munmap", mm=0, vpn=0, npages=1), step("dma_write", id="w", value=9),
               dma_read("r", 9))
    assert ids(seen) == []
    # a pin taken after the writer was unbound cannot share its page
    seen = run(MMAP, pin(0, 0, "w", write=True), step("munmap", mm=0, vpn=0, npages=1),
               step("mmap", mm=0, vpn=0, npages=1), pin(0, 0, "r"),
               step("dma_write", id="w", value=9), dma_read("r", 9))
    assert seen[-1] == ["no-foreign-data"]


def test_no_loss_treats_a_never_faulted_page_as_zero():
    class K(FakeKernel):
        def peek(self, mm, vpn):
            return self.mem.get((mm, vpn))      # None: nothing faulted in
    k = K()
    c = Contract()
    c.before(MMAP, k)
    c.observe(0, MMAP, R(), k)
    s = step("madvise", mm=0, vpn=0, npages=1, advice="collapse")
    c.before(s, k)
    k.mem[(0, 0)] = 0
    assert c.observe(1, s, R(), k) == []


def test_variants_tell_bugs_behind_one_clause_apart():
    c = Contract()
    steps = [MMAP, step("write", mm=0, vpn=1, value=5), pin(0, 0, "z", longterm=True),
             pin(0, 1, "r"), pin(0, 1, "w", write=True), step("get", mm=0, vpn=1, id="g"),
             step("dma_write", id="w", value=7)]
    for i, s in enumerate(steps):
        c.observe(i, s, R())
    dma = step("dma_read", id="z")
    assert c.variant("pin-coherence", dma, 0) == "R/O longterm pin of never-written memory"
    assert c.variant("pin-coherence", step("dma_read", id="r"), 5) == "R/O pin"
    assert c.variant("pin-coherence", step("dma_read", id="w"), 5) == "R/W pin"
    assert c.variant("pin-coherence", step("read", mm=0, vpn=1), 5) == "holder read"
    assert c.variant("no-foreign-data", step("dma_read", id="g"), 5) == "FOLL_GET sees process write"
    assert c.variant("no-foreign-data", step("dma_read", id="r"), 7) == "pin sees device write"
    assert c.variant("isolation", step("read", mm=0, vpn=1), 0) == "zero"
    assert c.variant("isolation", step("read", mm=0, vpn=1), 5) == "own old value"
    assert c.variant("no-loss", step("read", mm=0, vpn=1), 5) == ""
    # a pin of a hugetlb page: its own path at fork and at write faults
    c.observe(7, step("mmap", mm=0, vpn=4, npages=4, hugetlb=True), R())
    c.observe(8, pin(0, 4, "h", write=True), R())
    assert c.variant("pin-coherence", step("dma_read", id="h"), 5) == "R/W pin of hugetlb"


# ------------------------------------------------------------------ files, soft-dirty

class FileKernel(FakeKernel):
    """The user-level views, with read(2) of the named files."""

    def __init__(self):
        super().__init__()
        self.files = {}

    def file_peek(self, name, index):
        return self.files.get((name, index), 0)


def drive(k, *items):
    """Like run(), with kernel changes: an item is a step, a (step, result) pair, or a
    dict of file contents the kernel holds from the next step on (the step that wrote
    them)."""
    c = Contract()
    seen = []
    for item in items:
        if isinstance(item, dict):
            k.files.update(item)
            continue
        s, r = item if isinstance(item, tuple) else (item, R())
        c.before(s, k)
        seen.append([v.id for v in c.observe(len(seen), s, r, k)])
    return seen


def test_shared_mappings_see_each_others_writes_and_the_file_changes_with_them():
    shared = step("mmap", mm=0, vpn=0, npages=1, backing="file", shared=True)
    other = step("mmap", mm=1, vpn=0, npages=1, backing="file", shared=True)
    write = step("write", mm=0, vpn=0, value=5)
    assert drive(FileKernel(), shared, other, {("file", 0): 5}, write,
                 read(1, 0, 5))[-2:] == [[], []]
    assert drive(FileKernel(), shared, other, {("file", 0): 5}, write,
                 read(1, 0, 0))[-1] == ["isolation"]
    # the file changed although the mapping was private ...
    private = step("mmap", mm=0, vpn=0, npages=1, backing="file")
    assert drive(FileKernel(), private, {("file", 0): 5}, write)[-1] == ["file-integrity"]
    # ... or R/O: a kernel that took the write wrote through a R/O shared mapping
    ro = step("mmap", mm=0, vpn=0, npages=1, backing="file", shared=True, prot="r")
    assert drive(FileKernel(), ro, {("file", 0): 5}, write)[-1] == ["file-integrity"]
    # without the read(2) view there is nothing to compare
    assert run(private, write, kernel=FakeKernel())[-1] == []


def test_a_private_file_page_follows_the_file_until_written_and_may_show_older_values():
    steps = [step("mmap", mm=0, vpn=0, npages=1, backing="shmem", shared=True),
             step("mmap", mm=1, vpn=0, npages=1, backing="shmem"),
             step("write", mm=0, vpn=0, value=5)]
    new = {("shmem", 0): 5}
    assert ids(drive(FileKernel(), *steps[:2], new, steps[2], read(1, 0, 5))) == []
    assert ids(drive(FileKernel(), *steps[:2], new, steps[2], read(1, 0, 0))) == []
    assert drive(FileKernel(), *steps[:2], new, steps[2], step("write", mm=1, vpn=0, value=6),
                 read(1, 0, 5))[-1] == ["isolation"]
    assert drive(FileKernel(), *steps[:2], new, steps[2], step("poke", mm=1, vpn=0, value=6),
                 read(1, 0, 6))[-2:] == [[], []]          # its own copy now


def test_device_writes_through_a_shared_page_reach_the_file_bound_or_not():
    mmap = step("mmap", mm=0, vpn=0, npages=1, backing="file", shared=True)
    seen = drive(FileKernel(), mmap, pin(0, 0, "p", write=True),
                 step("munmap", mm=0, vpn=0, npages=1), mmap, {("file", 0): 9},
                 step("dma_write", id="p", value=9), read(0, 0, 9))
    assert ids(seen) == []
    # a kernel whose device write missed the file
    assert drive(FileKernel(), mmap, pin(0, 0, "p", write=True),
                 step("dma_write", id="p", value=9))[-1] == ["file-integrity"]


def test_a_rw_get_makes_no_promise_about_where_the_device_write_lands():
    base = (MMAP, step("write", mm=0, vpn=0, value=5),
            step("get", mm=0, vpn=0, id="g", write=True), step("dma_write", id="g", value=9))
    assert ids(run(*base, read(0, 0, 9))) == [] and ids(run(*base, read(0, 0, 5))) == []
    assert run(*base, read(0, 0, 7))[-1] == ["isolation"]


def test_softdirty_a_write_after_clear_reads_soft_dirty():
    k = FakeKernel()
    base = (MMAP, step("clear_softdirty", mm=0), step("write", mm=0, vpn=0, value=1))
    sd = lambda v, vpn=0: (step("softdirty", mm=0, vpn=vpn), R(value=v))   # noqa: E731
    assert run(*base, sd(0))[-1] == ["softdirty"]
    assert run(*base, sd(1))[-1] == []
    assert run(MMAP, step("write", mm=0, vpn=0, value=1), sd(0))[-1] == []   # not tracking
    assert run(*base, step("madvise", mm=0, vpn=0, npages=1, advice="dontneed"), sd(0))[-1] == []
    assert run(*base, step("ksm_merge", mm=0, vpn=1, mm2=0, vpn2=0), sd(0), kernel=k)[-1] == []
    assert run(*base, step("mremap", mm=0, vpn=0, npages=1, new_vpn=5),
               sd(0, vpn=5))[-1] == ["softdirty"]
    hugetlb = step("mmap", mm=0, vpn=0, npages=4, hugetlb=True)
    assert run(hugetlb, *base[1:], sd(0))[-1] == []   # hugetlb does not track soft-dirty
    c = Contract()
    for i, s in enumerate((step("mmap", mm=0, vpn=0, npages=1, backing="file", shared=True),
                           step("mmap", mm=0, vpn=1, npages=1))):
        c.observe(i, s, R())
    assert c.variant("softdirty", step("softdirty", mm=0, vpn=0), 0) == "shared mapping"
    assert c.variant("softdirty", step("softdirty", mm=0, vpn=1), 0) == "private mapping"
    assert c.variant("file-integrity", step("poke", mm=0, vpn=0, value=1), 0) == "after poke"


def test_foll_get_on_hugetlb_may_show_foreign_data():
    base = (step("mmap", mm=0, vpn=0, npages=4, hugetlb=True), step("write", mm=0, vpn=0, value=1),
            step("fork", mm=0, child=1), step("get", mm=1, vpn=0, id="g"), step("exit", mm=1),
            step("write", mm=0, vpn=0, value=2))
    assert run(*base, dma_read("g", 2))[-1] == []
    assert run(MMAP, *base[1:], dma_read("g", 2))[-1] == ["no-foreign-data"]


def test_every_clause_the_contract_reports_is_registered():
    source = "".join(path.read_text() for path in sorted(
        (Path(__file__).resolve().parents[2] / "spec" / "contract").glob("*.py")))
    reported = set(re.findall(r'Violation\(\s*"([a-z-]+)"', source))
    reported |= set(re.findall(r'return "([a-z-]+)" if .* else "([a-z-]+)"', source)[0])
    reported |= set(re.findall(r'out.append\("([a-z-]+)"\)', source))
    assert {"file-integrity", "softdirty", "no-loss", "no-foreign-data", "pin-coherence",
            "isolation"} <= reported
    assert reported <= set(CLAUSES) and all(CLAUSES[c].kind == "contract" for c in reported)


def test_a_device_write_through_a_rw_foll_get_reference_may_show_where_the_page_is_shared():
    # fork shares a page a FOLL_GET reference holds (only pinned pages are copied): the
    # device's write through it may show in the child (the fork vs O_DIRECT problem)
    mm, get = step("mmap", mm=0, vpn=0, npages=1), step("get", mm=0, vpn=0, id="g", write=True)
    assert run(mm, get, step("fork", mm=0, child=1), dma_write("g", 1), read(1, 0, 1))[-1] == []
    # ... and a later reference on the page may show it too, the holder's reads as well
    assert run(mm, get, dma_write("g", 1), step("get", mm=0, vpn=0, id="h", write=True),
               dma_read("h", 1), read(0, 0, 1))[-1] == []
    # not in a process that unmapped the address, nor in one forked before the reference
    assert run(mm, get, step("fork", mm=0, child=1), step("munmap", mm=1, vpn=0, npages=1),
               step("mmap", mm=1, vpn=0, npages=1), dma_write("g", 1),
               read(1, 0, 1))[-1] == ["isolation"]
    assert run(mm, step("fork", mm=0, child=1), get, dma_write("g", 1),
               read(1, 0, 1))[-1] == ["isolation"]


def test_a_reference_on_a_shared_page_sees_the_file():
    # a R/O pin of a MAP_SHARED page shows what the other mapper writes there, also
    # after its holder mapped something else at the address
    shared = step("mmap", mm=0, vpn=0, npages=1, shared=True)
    assert run(shared, step("fork", mm=0, child=1), pin(0, 0, "p"),
               step("mmap", mm=0, vpn=0, npages=1), step("write", mm=1, vpn=0, value=1),
               dma_read("p", 1))[-1] == []

