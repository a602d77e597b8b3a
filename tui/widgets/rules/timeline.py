"""A finding's trace as a timeline: a row per step, a column per process and per
pin or reference (and the page it holds), the values read and written in the cells,
the step where the clause broke marked.

Every op of the trace format has its cell: the process ops (mmap with what it maps,
mprotect with its protection, poke, mremap, clear_softdirty and the softdirty, pte and
pfn queries with their answers) in the process's column, pins and references (with
GUP-fast and FOLL_FORCE marked) in theirs too, and swapoff, which belongs to no
process, in a "system" column that appears when the trace has one.

The layout is computed by `timeline_rows` (pure, tested on its own) from the
finding's replay (review.check.replay) or, when the trace cannot be replayed, from the
results its readable steps carry; the widget is a DataTable showing it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from review.report.types import CheckFinding
from tui.literal import printable

if TYPE_CHECKING:   # review.check is loaded with the first replay, not at start-up
    from review.check.replay import Replay

REF_OPS = {"pin", "get", "unpin", "put", "dma_read", "dma_write"}
SYSTEM_OPS = {"swapoff"}   # ops of no process: a column of their own ("system")


@dataclass
class TimelineModel:
    columns: list[str]                         # "#", "mm0", "mm1", ..., "pin p0", ...
    rows: list[list[Text]] = field(default_factory=list)
    marked: int | None = None                  # row index of the violation


def _arg(step: dict, name: str, default=None):
    return step.get(name, default)


def _res(result) -> str:
    if result is None:
        return ""
    status, value = result
    if status not in ("ok", None, ""):
        return f" ⇒ {status}"
    return f" → {value}" if value is not None else ""


_PROT = {"rw": " rw", "r": " ro", "none": " none"}


def _mapping(step: dict) -> str:
    """What an mmap maps, in a few words: ` thp`, ` mthp`, ` hugetlb`, ` file shared`,
    ` shmem ro`... (nothing for private anonymous R/W memory)."""
    words = []
    if step.get("thp"):
        words.append("mthp" if step.get("thp_order") == 1 else "thp")
    if step.get("hugetlb"):
        words.append("hugetlb")
    if step.get("backing", "anon") != "anon":
        words.append(str(step["backing"]))
    if step.get("shared"):
        words.append("shared")
    prot = step.get("prot", "rw")
    if prot != "rw":
        words.append(_PROT.get(prot, f" {prot}").strip())
    return "".join(" " + w for w in words)


def _gup_flags(step: dict) -> str:
    return (" fast" if step.get("fast") else "") + (" force" if step.get("force") else "")


def _process_cell(step: dict, result) -> str:
    op = step.get("op", "?")
    vpn = _arg(step, "vpn")
    if op in ("write", "poke"):
        mark = "W" if op == "write" else "poke"
        return f"{mark}[{vpn}]={_arg(step, 'value')}" + \
            (_res(result) if result and result[0] != "ok" else "")
    if op == "read":
        return f"R[{vpn}]" + _res(result)
    if op == "fork":
        return f"fork → mm{_arg(step, 'child')}"
    if op in ("mmap", "munmap", "mprotect"):
        n = _arg(step, "npages", 1)
        extra = _mapping(step) if op == "mmap" else ""
        if op == "mprotect":
            prot = step.get("prot")
            extra = (" rw" if step.get("write") else " ro") if prot is None \
                else _PROT.get(prot, f" {prot}")
        return f"{op} {vpn}+{n}{extra}" + _res(result)
    if op == "mremap":
        return f"mremap {vpn}+{_arg(step, 'npages', 1)} → {_arg(step, 'new_vpn')}" + _res(result)
    if op == "clear_softdirty":
        return "clear soft-dirty" + _res(result)
    if op == "softdirty":
        return f"SD[{vpn}]" + _res(result)
    if op == "madvise":
        return f"{_arg(step, 'advice')} {vpn}+{_arg(step, 'npages', 1)}" + _res(result)
    if op == "exit":
        return "exit"
    if op in ("pin", "get"):
        kind = "pin " + ("rw" if step.get("write") else "ro") + (" lt" if step.get("longterm") else "") \
            if op == "pin" else "get" + (" rw" if step.get("write") else "")
        return f"{kind}{_gup_flags(step)} [{vpn}] as {_arg(step, 'id')}" + _res(result)
    if op == "ksm_merge":
        return f"ksm [{vpn}]~mm{_arg(step, 'mm2')}[{_arg(step, 'vpn2')}]" + _res(result)
    return f"{op} [{vpn}]" + _res(result) if vpn is not None else op + _res(result)


def _ref_cell(step: dict, result) -> str:
    op = step.get("op")
    if op == "dma_write":
        return f"dev W={_arg(step, 'value')}" + (_res(result) if result and result[0] != "ok" else "")
    if op == "dma_read":
        return "dev R" + _res(result)
    if op in ("unpin", "put"):
        return op
    if op == "pin":
        return ("rw" if step.get("write") else "ro") + (" longterm" if step.get("longterm") else "") \
            + _gup_flags(step) + f" mm{_arg(step, 'mm')}[{_arg(step, 'vpn')}]"
    if op == "get":
        return "get" + (" rw" if step.get("write") else "") + _gup_flags(step) \
            + f" mm{_arg(step, 'mm')}[{_arg(step, 'vpn')}]"
    return op or ""


def timeline_rows(steps: list[dict], results: list | None = None, violated: int | None = None,
                  clause: str = "", other: list | None = None) -> TimelineModel:
    """steps: replay-format step objects; results: per step (status, value) or None;
    other: the other side's results of a differential finding (shown where they
    differ)."""
    mms: list[int] = []
    refs: list[str] = []
    for s in steps:
        for key in ("mm", "child", "mm2"):
            v = s.get(key)
            if isinstance(v, int) and v not in mms and not (key == "mm" and s.get("op") in ("unpin", "put")):
                mms.append(v)
        if s.get("op") in ("pin", "get") and s.get("id") is not None and str(s["id"]) not in refs:
            refs.append(str(s["id"]))
    mms.sort()
    system = any(s.get("op") in SYSTEM_OPS for s in steps)
    columns = ["#"] + [f"mm{m}" for m in mms] + [f"ref {r}" for r in refs] \
        + (["system"] if system else []) + ["seen"]
    model = TimelineModel(columns)
    for i, s in enumerate(steps):
        result = results[i] if results is not None and i < len(results) else None
        cells = [Text(str(i), style="dim")]
        op = s.get("op")
        for m in mms:
            if op in ("dma_read", "dma_write", "unpin", "put"):
                txt = ""
            elif s.get("mm") == m:
                txt = _process_cell(s, result)
            elif op == "fork" and s.get("child") == m:
                txt = "◀ born"
            elif op == "ksm_merge" and s.get("mm2") == m:
                txt = f"ksm [{s.get('vpn2')}]"
            else:
                txt = ""
            cells.append(Text(printable(txt)))
        for r in refs:
            txt = _ref_cell(s, result) if op in REF_OPS and str(s.get("id")) == r else ""
            cells.append(Text(printable(txt), style="cyan" if txt else ""))
        if system:
            txt = (str(op) + _res(result)) if op in SYSTEM_OPS else ""
            cells.append(Text(printable(txt)))
        seen = Text("")
        if other is not None and i < len(other) and result is not None and other[i] != result:
            seen.append(f"other side{_res(other[i]) or ' ok'} ", style="yellow")
        if violated is not None and i == violated:
            seen.append(f"✗ {printable(clause)}", style="bold red")
            model.marked = i
        cells.append(seen)
        if model.marked == i:
            for c in cells[1:-1]:
                c.stylize("bold")
        model.rows.append(cells)
    return model


def replayed(finding: CheckFinding, replay: Replay) -> tuple[list, int | None, list | None]:
    """What the timeline shows of a finding's replay: the results of its own run, the
    step to mark (where the clause broke, or where a differential finding's two sides
    first differ) and the other side's results (differential findings only)."""
    results = replay.results()
    other_run = replay.compared_run(finding.id)
    if other_run is None:
        return results, replay.violation_step(finding.id), None
    return results, replay.first_difference(other_run), replay.results(other_run)


def _results_from_steps(steps: list[str], n: int) -> list | None:
    """(status, value) per step from check's readable steps (`read mm=0 vpn=0 -> 7`)."""
    if len(steps) != n:
        return None
    out = []
    for s in steps:
        if " -> " not in s:
            out.append(("ok", None))
            continue
        tail = s.rsplit(" -> ", 1)[1].strip()
        try:
            out.append(("ok", int(tail)))
        except ValueError:
            out.append((tail, None))
    return out


def finding_timeline(finding: CheckFinding, replay: Replay | None) -> TimelineModel:
    """The timeline of a finding with a trace; without a replay (the trace names rules
    that are gone), the results its readable steps carry."""
    steps = finding.trace["steps"]
    if replay is not None:
        results, marked, other = replayed(finding, replay)
    else:
        results, other = _results_from_steps(finding.steps, len(steps)), None
        marked = finding.trace.get("violation_step")
    return timeline_rows(steps, results, marked, finding.id, other=other)


class Timeline(DataTable):
    """Shows a TimelineModel; the violated step is highlighted and scrolled to."""

    def __init__(self, **kw) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", **kw)
        self.model: TimelineModel | None = None

    def on_mount(self) -> None:
        if self.model is None and not self.columns:
            self.show_text("No trace yet: choose a finding (2, then Enter) to see its steps here.")

    def show(self, model: TimelineModel) -> None:
        self.model = model
        self.clear(columns=True)
        for c in model.columns:
            # a Text label: DataTable parses a plain string as markup
            self.add_column(Text(printable(c)), key=c)
        for row in model.rows:
            self.add_row(*row)
        if model.marked is not None:
            self.move_cursor(row=model.marked, animate=False)

    def show_text(self, text: str) -> None:
        self.model = None
        self.clear(columns=True)
        self.add_column("trace")
        self.add_row(Text(printable(text), style="dim"))
