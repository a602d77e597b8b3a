"""What a patch touches, and what became of each piece: every touched function ends in
exactly one class, and a reviewer can see which.

    bound        mapped to a decision point or primitive of the spec, and checked
    equivalent   its pre- and post-image rules are proved equal (plumbing, renames,
                 argument passing): nothing to check
    outside      outside the model, for a named reason (hugetlb, file-backed, ...)
    unmodelled   relevant, but the spec lacks what it needs: named

    Coverage.line() -> "12 touched: 5 bound, 3 equivalent, 3 outside (hugetlb 2,
                        locking 1), 1 unmodelled (GUP-fast 1)"
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

CLASSES = ("bound", "equivalent", "outside", "unmodelled")


@dataclass(frozen=True)
class Touched:
    file: str
    function: str
    cls: str        # one of CLASSES
    reason: str     # bound: the decision points/primitives; equivalent: how it was proved;
                    # outside: why it is outside the model; unmodelled: what the spec lacks

    @property
    def key(self) -> str:
        return f"{self.file}:{self.function}"


@dataclass
class Coverage:
    touched: list[Touched] = field(default_factory=list)

    def of(self, cls: str) -> list[Touched]:
        return [t for t in self.touched if t.cls == cls]

    def counts(self) -> dict[str, int]:
        return {c: len(self.of(c)) for c in CLASSES}

    def line(self) -> str:
        """One line: how many touched, and how many of each class, with the reasons of
        the classes that need them."""
        parts = []
        for cls in CLASSES:
            items = self.of(cls)
            text = f"{len(items)} {cls}"
            if items and cls in ("outside", "unmodelled"):
                why = Counter(t.reason for t in items)
                text += " (" + ", ".join(f"{r} {n}" for r, n in sorted(why.items())) + ")"
            parts.append(text)
        return f"{len(self.touched)} touched: " + ", ".join(parts)

    def merged(self, other: "Coverage") -> "Coverage":
        """A series' coverage: every patch's touched functions (a function touched by
        two patches counts twice: each patch's change is a change to check)."""
        return Coverage(self.touched + other.touched)
