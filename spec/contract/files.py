"""The contract's part for pages that are not private anonymous memory: the named
files, MAP_SHARED|MAP_ANONYMOUS mappings and hugetlb (Proc.pages), what a private file
page follows until its process writes it, writes to a file, and the file-integrity
clause (read(2) of the named files).

Part of Contract (spec/contract/__init__.py: the state, the clauses and _set, the one
logical-memory update).
"""
from __future__ import annotations

from typing import Any

from spec.clauses import Violation
from spec.contract.memory import Proc
from spec.trace import Step

NAMED_FILES = ("file", "shmem")   # the files read(2) can check (file_peek)


class FileContent:
    """Contract's part for file, shared and hugetlb pages."""

    def _mmap_kind(self, index, p: Proc, mm: int, vpns, a) -> None:
        backing, shared = a.get("backing", "anon"), a.get("shared", False)
        hugetlb = a.get("hugetlb", False)
        if a.get("prot", "rw") != "rw":
            p.readonly.update(vpns)
        if backing != "anon":
            key = backing
        elif shared:
            key = ("shared", self.next_shared)
            self.next_shared += 1
        elif hugetlb:
            for vpn in vpns:
                p.pages[vpn] = (None, False, True, 0)
            return
        else:
            return
        for vpn in vpns:
            p.pages[vpn] = (key, shared, hugetlb, vpn)   # vm_pgoff: page index vpn
            p.mem[vpn] = value = self._follow(p, mm, vpn, key, vpn)
            if shared:
                p.written.add(vpn)   # the page cache's page: a real page in user terms
            if value:
                self._set(index, mm, vpn, value)

    def _check_files(self, index: int, step: Step, kernel: Any, out: list[Violation]) -> None:
        """file-integrity: read(2) of each named file agrees with its logical content at
        every index a process mapped. A disagreement is reported by the step that made
        it (file_bad remembers it until the file agrees again), not by every step after:
        a step that touches no file then breaks nothing, whatever it follows."""
        file_peek = getattr(kernel, "file_peek", None)
        if file_peek is None:
            return
        bad = self.file_bad
        for name in NAMED_FILES:
            content = self.files.get(name)
            if content is None:
                continue
            for i, want in content.items():
                got = file_peek(name, i)
                if got == want:
                    bad.discard((name, i))
                elif (name, i) not in bad:
                    bad.add((name, i))
                    out.append(Violation(
                        "file-integrity", index,
                        f"after {step.op}, read(2) of {name} at page {i} returns "
                        f"{self._origin_text(got)}; the file holds {want}"))

    def _follow(self, p: Proc, mm: int, vpn: int, key, i: int) -> int:
        """(mm, vpn) maps (key, i) and shows what the file holds: its value now."""
        self.mappers.setdefault((key, i), set()).add((mm, vpn))
        self.files.setdefault(key, {}).setdefault(i, 0)
        return self.files[key][i]

    def _unfollow(self, p: Proc, mm: int, vpn: int) -> None:
        kind = p.pages.get(vpn)
        if kind is not None and kind[0] is not None:
            who = self.mappers.get((kind[0], kind[3]))
            if who is not None:
                who.discard((mm, vpn))
        p.maybe.pop(vpn, None)

    def _follows(self, mm: int, vpn: int, kind) -> bool:
        return kind[0] is not None and (mm, vpn) in self.mappers.get((kind[0], kind[3]), ())

    def _own(self, p: Proc, mm: int, vpn: int) -> None:
        """A private page the process now holds its own copy of (it wrote it)."""
        if p.pages and vpn in p.pages and not p.pages[vpn][1]:
            self._unfollow(p, mm, vpn)
        elif p.maybe:
            p.maybe.pop(vpn, None)

    def _file_write(self, index: int, key, i: int, value: int) -> None:
        """The file (key, i) now holds `value`: every process mapping it sees it (a
        private mapping that has not written the page may go on showing older values)."""
        self.files.setdefault(key, {})[i] = value
        for r in self.refs.values():
            if r.file == (key, i):
                r.held.add(value)   # a reference on a shared page sees the file's page
        for mm, vpn in sorted(self.mappers.get((key, i), ())):
            p = self.procs.get(mm)
            if p is None or vpn not in p.mem:
                continue
            if not p.pages[vpn][1]:
                p.maybe.setdefault(vpn, set()).add(p.mem[vpn])
            p.mem[vpn] = value
            self._set(index, mm, vpn, value)

    def _shared_at(self, p: Proc, vpn: int):
        """(file key, index) when vpn maps a shared page, else None."""
        kind = p.pages.get(vpn) if p.pages else None
        return (kind[0], kind[3]) if kind is not None and kind[1] else None
