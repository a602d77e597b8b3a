"""The spec pane for the selected patch: what extraction bound and extracted (rules
before and after, with their source lines), what it could not model, and the
findings of fuzzing, with the selected finding's trace as a timeline."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.reactive import Reactive
from textual.message import Message as TMessage
from textual.widgets import OptionList, TabbedContent, TabPane
from textual.widgets.option_list import Option

from tui.literal import line as lit
from tui.literal import printable
from tui.widgets.rules.timeline import Timeline

SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "note": "blue"}


class RulesView(OptionList):
    """One row per bound function, rule, unmodelled atom; Enter jumps to its line."""
    # sized by the layout: new rules repaint the pane, not the whole screen (MessagePane)
    virtual_size = Reactive(Size(0, 0), layout=False)

    class Jump(TMessage):
        def __init__(self, file: str, side: str, line: int) -> None:
            super().__init__()
            self.file, self.side, self.line = file, side, line

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.targets: list[tuple[str, str, int] | None] = []

    def show(self, rows: list[tuple[Text, tuple[str, str, int] | None]]) -> None:
        self.targets = [t for _, t in rows]
        self.set_options([Option(text) for text, _ in rows])
        self.highlighted = 0 if rows else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        t = self.targets[event.option_index] if event.option_index < len(self.targets) else None
        if t is not None:
            self.post_message(self.Jump(*t))


SEVERITY_ORDER = {"error": 0, "warning": 1, "note": 2}
FOLD = object()         # the row that folds (or unfolds) the notes


def _finding_option(f) -> Option:
    t = Text(end="")
    sev = getattr(f, "severity", "warning")
    t.append(f"{sev:7} ", style=SEVERITY_STYLE.get(sev, ""))
    t.append(printable(getattr(f, "id", "")), style="bold")
    where = f.where() if hasattr(f, "where") else ""
    if where:
        t.append(f"  {printable(where)}", style="dim")
    t.append("\n  ")
    t.append(printable(getattr(f, "message", "")))
    return Option(t)


def _fold_option(notes: list, open_: bool) -> Option:
    ids: dict[str, int] = {}
    for f in notes:
        ids[getattr(f, "id", "")] = ids.get(getattr(f, "id", ""), 0) + 1
    t = Text(end="")
    t.append(f"{'▾' if open_ else '▸'} {len(notes)} note{'s' if len(notes) != 1 else ''}", style="blue")
    t.append(": " + printable(", ".join(f"{n}× {i}" if n > 1 else i for i, n in sorted(ids.items()))),
             style="dim")
    t.append("  (Enter " + ("folds them)" if open_ else "shows them)"), style="dim italic")
    return Option(t)


class FindingsView(OptionList):
    """Errors and warnings first, one row each; the notes (informational: partial
    extraction, unmodelled conditions, differences the patch does not deny) folded
    into one row per patch that Enter opens and closes."""

    class Chosen(TMessage):
        def __init__(self, finding) -> None:
            super().__init__()
            self.finding = finding

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.findings: list = []
        self.items: list = []           # per option: a finding, or FOLD
        self.notes_open = False
        self.status: Text | None = None
        self.owner: object = None       # whose findings: another patch's come folded again
        self._shown = None

    def show(self, findings: list, status: Text | None = None, owner: object = None) -> None:
        if owner is not self.owner:
            self.owner, self.notes_open = owner, False
        self.status = status
        shown = (tuple(id(f) for f in findings), status.plain if status is not None else None,
                 self.notes_open)
        if shown == self._shown:
            return  # unchanged: keep the cursor, skip the re-render
        self._shown = shown
        keep = self.highlighted
        ordered = sorted(findings, key=lambda f: SEVERITY_ORDER.get(getattr(f, "severity", "warning"), 1))
        serious = [f for f in ordered if getattr(f, "severity", "warning") != "note"]
        notes = [f for f in ordered if getattr(f, "severity", "warning") == "note"]
        self.findings = list(ordered)
        self.items = list(serious) + ([FOLD] if notes else []) + (notes if self.notes_open else [])
        opts = [_fold_option(notes, self.notes_open) if it is FOLD else _finding_option(it) for it in self.items]
        if not opts:
            opts.append(Option(status or Text("No findings yet: f fuzzes this patch, F the series.",
                                              style="dim"), disabled=True))
        self.set_options(opts)
        if self.items:
            self.highlighted = min(keep or 0, len(self.items) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index >= len(self.items):
            return
        item = self.items[event.option_index]
        if item is FOLD:
            self.notes_open = not self.notes_open
            self.show(self.findings, self.status, self.owner)
            self.highlighted = event.option_index
        else:
            self.post_message(self.Chosen(item))


class SpecPane(Vertical):
    """Rules / Findings / Trace tabs for the patch in view."""
    BORDER_TITLE = "Spec"
    ALLOW_MAXIMIZE = True

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="tab-rules", id="spec-tabs"):
            with TabPane("Rules", id="tab-rules"):
                yield RulesView(id="rules")
            with TabPane("Findings", id="tab-findings"):
                yield FindingsView(id="findings")
            with TabPane("Trace", id="tab-trace"):
                yield Timeline(id="timeline")

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one(TabbedContent)

    @property
    def active(self) -> str:
        return self.tabs.active

    @active.setter
    def active(self, tab: str) -> None:
        self.tabs.active = tab

    @property
    def rules(self) -> RulesView:
        return self.query_one(RulesView)

    @property
    def findings_view(self) -> FindingsView:
        return self.query_one(FindingsView)

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    def set_findings_count(self, findings: list) -> None:
        """The tab's label: errors and warnings counted, notes apart."""
        try:
            tab = self.tabs.get_tab("tab-findings")
        except Exception:  # tabs not built yet
            return
        notes = sum(1 for f in findings if getattr(f, "severity", "warning") == "note")
        serious = len(findings) - notes
        label = "Findings"
        if findings:
            label += f" ({serious}" + (f" + {notes} note{'s' if notes != 1 else ''}" if notes else "") + ")"
        if str(tab.label) != label:     # a new label lays the whole screen out again
            tab.label = label

    def focus_active(self) -> None:
        pane = self.tabs.get_pane(self.active) if self.active else None
        if pane is not None:
            for w in pane.query("*"):
                if w.focusable:
                    w.focus()
                    return


def placeholder(text: str) -> list[tuple[Text, None]]:
    return [(lit(text, style="dim"), None)]
