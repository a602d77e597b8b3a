"""Claims of "no functional change" in a commit message.

Kernel developers mark refactors with "No functional change intended.", "No
functional change(s).", "NFC" or "NFCI" (LLVM's habit, seen in kernel logs too), and
reviewers take them at their word. `mmreview check` does not: a patch that claims no
functional change gets a pre- vs post-image differential run, and an observable
difference is a finding (id `nfc-claim`, severity warning).

What counts as a claim:
- "no functional change(s)" with optional "intended"/"expected", any case, possibly
  broken across lines, also "without (any) functional change(s)" and
  "no behavio(u)r(al) change(s)"; "no functionality change(s)";
- "NFC"/"NFCI" as an upper-case word on its own, or inside "(NFC)"/"[NFC]".
What does not:
- the NFC subsystem ("nfc:" / "NFC:" prefixes, "NFC controller"): an upper-case NFC
  followed by a colon, or used as a noun before another capitalised word, is not a
  claim; only the standalone word at a sentence or parenthesis boundary is;
- quoted lines ("> ..."), which are someone else's words;
- negated claims such as "this is not a no functional change patch" are rare enough
  that we still report them as claims: a false alarm is cheap, a missed one is not.
Only the commit message is read (the part above "---"), never the diff.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_PHRASES = re.compile(
    r"""\b(?:
        no \s+ (?:intended \s+)? functional(?:ity)? \s+ changes? (?:\s+ (?:intended|expected))?
      | without \s+ (?:any \s+)? functional \s+ changes?
      | no \s+ behaviou?r(?:al)? \s+ changes? (?:\s+ (?:intended|expected))?
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)

# Upper-case NFC/NFCI standing alone: bracketed, or followed by end of sentence/line.
_ACRONYM = re.compile(r"(?:(?<=[(\[])NFCI?(?=[)\]])|\bNFCI?\b(?=\s*(?:[.;,!]|$)))", re.MULTILINE)


@dataclass(frozen=True)
class NfcClaim:
    text: str   # the claim as written (whitespace normalised)
    line: int   # 1-based line in the commit message (0: the subject)


def _strip_quotes(message: str) -> list[str]:
    return ["" if ln.lstrip().startswith(">") else ln for ln in message.splitlines()]


def find_claim(commit_message: str, subject: str = "") -> NfcClaim | None:
    """The first no-functional-change claim in the subject or commit message."""
    if subject:
        m = _PHRASES.search(subject) or _ACRONYM.search(subject)
        if m:
            return NfcClaim(" ".join(m.group().split()), 0)
    lines = _strip_quotes(commit_message)
    # Join lines so that a claim wrapped across lines is found; map offsets back.
    joined = "\n".join(lines)
    for pattern in (_PHRASES, _ACRONYM):
        m = pattern.search(joined)
        if m:
            line = joined.count("\n", 0, m.start()) + 1
            return NfcClaim(" ".join(m.group().split()), line)
    return None
