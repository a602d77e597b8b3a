"""The spec pane's Rules tab: what extraction (review.extract.rules.PatchRules) bound
and extracted from one patch, as rows of text, each with the source line it jumps to."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from tui.literal import printable

if TYPE_CHECKING:   # the extractor is loaded with the first patch, not at start-up
    from spec.decisions import Provenance

    from review.extract.rules import PatchRules

Target = tuple[str, str, int]   # (file, side, line)


def _target(prov: Provenance | None) -> Target | None:
    if prov is None or not prov.file or not prov.line:
        return None
    return (prov.file, prov.image, int(prov.line))


def rules_rows(rules: PatchRules) -> list[tuple[Text, Target | None]]:
    """The spec pane's Rules tab: bound functions, then per image the extracted
    decisions and assertions with their source line, then unmodelled atoms and
    partial functions. Each row may carry a (file, side, line) to jump to."""
    rows: list[tuple[Text, Target | None]] = []

    def head(s: str) -> None:
        rows.append((Text(s, style="bold underline"), None))

    head("Bound functions")
    for b in rules.bound or ["(none: this patch touches no bound function)"]:
        rows.append((Text("  " + printable(b)), None))
    if rules.unbound:
        rows.append((Text("  not bound: " + printable(", ".join(rules.unbound)), style="dim"), None))
    for image, label in (("pre", "Before (pre-image)"), ("post", "After (post-image)")):
        img = rules.image(image)
        head(label)
        if not img.decisions and not img.assertions:
            rows.append((Text("  (no rule)", style="dim"), None))
        for d in img.decisions:
            rows.append((Text(f"  decision {d.point}", style="bold cyan"), None))
            for c in d.cases:
                prov = c.provenance
                t = Text("    ")
                if prov is not None and prov.line:
                    t.append(f"{printable(prov.file.rsplit('/', 1)[-1])}:{prov.line} ", style="dim")
                t.append(f"if {printable(str(c.guard))}")
                t.append(f" → {c.outcome}", style="bold")
                if prov is not None and prov.text:
                    t.append(f"\n      {printable(prov.text.strip())}", style="dim italic")
                rows.append((t, _target(prov)))
            if d.default:
                rows.append((Text(f"    otherwise → {d.default}", style="bold"), None))
        for a in img.assertions:
            prov = a.provenance
            t = Text("  ")
            t.append(f"{printable(a.macro)} ", style="bold magenta")
            t.append(f"at {a.primitive}", style="magenta")
            if prov is not None and prov.line:
                t.append(f"  {printable(prov.file.rsplit('/', 1)[-1])}:{prov.line}", style="dim")
                if prov.function:
                    t.append(f" {printable(prov.function)}", style="dim")
            t.append(f"\n    {printable(str(a.condition))}")
            rows.append((t, _target(prov)))
    if rules.unmodelled:
        head("Unmodelled (explored both ways)")
        for atom, file, line, image in rules.unmodelled:
            rows.append((Text(f"  {printable(atom)}  {printable(file)}:{line} ({image})", style="yellow"),
                         (file, image, int(line)) if line else None))
    if rules.partial:
        head("Partial (from hunks only)")
        for function, file, line, why in rules.partial:
            rows.append((Text(f"  {printable(function)}: {printable(why)}", style="dim"),
                         (file, "post", int(line)) if line else None))
    for w in rules.warnings:
        rows.append((Text("⚠ " + printable(w), style="yellow"), None))
    return rows
