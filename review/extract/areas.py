"""What the model leaves out, and why: kernel files, functions and kinds of change
that a touched function may belong to when no binding maps it to the spec.

Each rule names its reason in a reviewer's words. `outside` means the spec does not
model that part of the kernel on purpose (docs/limitations.md); `unmodelled` means it
is relevant to anonymous memory but the spec lacks what the change needs, and says
what. The first rule that matches decides.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    cls: str        # "outside" | "unmodelled"
    reason: str
    pattern: re.Pattern
    on: str         # "file" | "function"


def _a(cls: str, reason: str, pattern: str, on: str = "function") -> Area:
    return Area(cls, reason, re.compile(pattern), on)


AREAS: tuple[Area, ...] = (
    # whole files: the kernel's own split of the code
    _a("outside", "hugetlb", r"^(mm/hugetlb[^/]*\.c|fs/hugetlbfs/|include/linux/hugetlb)", "file"),
    _a("outside", "arch page tables", r"^arch/", "file"),
    _a("outside", "hardware poison", r"^mm/(memory-failure|hwpoison-inject)\.c$", "file"),
    _a("outside", "device memory", r"^mm/(memremap|hmm|migrate_device)\.c$", "file"),
    _a("outside", "file-backed", r"^(mm/(filemap|shmem|truncate|readahead|page-writeback|memfd)\.c|fs/(?!proc/))",
       "file"),
    _a("outside", "statistics", r"^mm/vmstat\.c$", "file"),
    _a("outside", "userfaultfd", r"^(mm/userfaultfd\.c|fs/userfaultfd\.c)$", "file"),
    _a("outside", "uprobes (breakpoints in file-backed text)", r"^kernel/events/uprobes\.c$", "file"),
    _a("outside", "reporting to user space (/proc, tracing)", r"^(fs/proc/|include/trace/)", "file"),
    # functions, by the kernel's naming
    _a("outside", "hugetlb", r"hugetlb|hugepte|^hugepage_(add|new)_anon_rmap$|^follow_huge_(pmd|pud|pgd)"),
    _a("outside", "file-backed", r"_file_rmap$|^filemap_|^shmem_"),
    # PUD-sized mappings are DAX and device memory only: no anonymous PUD THP
    _a("outside", "file-backed (PUD mappings)", r"huge_pud|pud_huge|pud_devmap|devmap_pud"),
    _a("outside", "arch page tables", r"gate_(page|area)|^(pgd|p4d)_"),
    _a("outside", "device memory", r"^migrate_vma_|device_private|devmap"),
    # The flags the model has are read through the vocabulary (a bound class comes
    # first); any other flag's test, set and clear helpers are outside it.
    _a("outside", "a page flag the model does not have",
       r"^(__)?(Page|SetPage|ClearPage|TestSetPage|TestClearPage)[A-Z]\w*$|^(__)?folio_(test|set|clear)_\w+$"),
    # follow_page() serves in-kernel lookups (KSM, migration, ...) that never pin
    _a("outside", "in-kernel page lookup without a pin", r"^follow_page$"),
    _a("unmodelled", "GUP-fast", r"^gup_(pte_range|huge_pmd|pmd_range|pud_range|p4d_range|pgd_range|fast)"
       r"|^lockless_pages_from_mm$|^internal_get_user_pages_fast$|^get_user_pages_fast"),
    _a("unmodelled", "the GUP retry loop (the model pins in one step)",
       r"^(faultin_page|__get_user_pages|__get_user_pages_locked|__gup_longterm_locked|"
       r"check_and_migrate_movable_pages)$"),
)

# Calls a change may add or remove without changing what anonymous memory does.
LOCKING = re.compile(r"^(spin_|raw_spin_|mmap_(read|write|assert)_|lockdep_assert|raw_write_seqcount_|"
                     r"write_seqcount_|raw_read_seqcount|read_seqcount|rcu_read_|i_mmap_(un)?lock|mutex_|"
                     r"down_|up_|lock_page|unlock_page|trylock_page|pte_(un)?map_lock|pte_unmap_unlock|"
                     r"pmd_lock|pud_lock|ptlock_|folio_(un)?lock|mmu_notifier_)")
STATISTICS = re.compile(r"^(__)?(count_vm_|inc_mm_counter|dec_mm_counter|add_mm_counter|mod_|__mod_|inc_|dec_|"
                        r"__inc_|__dec_|count_memcg_|trace_)")
DEBUGGING = re.compile(r"^(VM_BUG_ON|VM_WARN_ON|WARN_ON|WARN|BUG_ON|BUG|pr_|dump_page|dump_stack|"
                       r"printk|VM_WARN_ONCE)")
KEYWORDS = frozenset({"if", "else", "return", "sizeof", "while", "for", "switch", "case", "default", "goto",
                      "break", "continue", "do"})
_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


def area_of(file: str, function: str) -> Area | None:
    for area in AREAS:
        if (area.pattern.search(file) if area.on == "file" else area.pattern.search(function)):
            return area
    return None


def change_kind(lines: list[str]) -> str | None:
    """'locking only', 'statistics' or 'debugging' when every changed code line that
    calls anything calls only that kind of function (lines without calls, such as
    braces and `} else {`, follow the others); None otherwise. An assertion about a
    lock is locking."""
    kinds = set()
    for line in lines:
        calls = [c for c in _CALL.findall(line) if c not in KEYWORDS]
        if not calls:
            continue
        if all(LOCKING.match(c) for c in calls):
            kinds.add("locking only")
        elif DEBUGGING.match(calls[0]):   # an assertion may call any predicate
            kinds.add("locking only" if any(LOCKING.match(c) for c in calls[1:]) else "debugging")
        elif all(STATISTICS.match(c) for c in calls):
            kinds.add("statistics")
        else:
            return None
    return kinds.pop() if len(kinds) == 1 else None
