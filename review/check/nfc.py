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


# --- the verdict on a claim ---------------------------------------------------------
#
# A claim is VERIFIED when the truth tables prove every decision point the patch
# touches equivalent (review/extract/equivalence.py) and no assertion changed;
# CONTRADICTED when a point differs (a context where the two images decide apart,
# whatever the unmodelled C computes) and a trace shows the difference; otherwise NOT
# VERIFIED, saying what it depends on. A difference the fuzzer finds only by choosing
# values for unmodelled atoms, on a point whose tables are undecided, contradicts
# nothing: those atoms stand for C the model does not see.

VERIFIED, CONTRADICTED, NOT_VERIFIED = "verified", "contradicted", "not verified"

_CALL = re.compile(r"^(\w+)\(", re.DOTALL)
SHORT_ATOM = 30         # longer atoms are named by their function: `copy_present_page(...)`
_REST = re.compile(r"^the rest of (\w+) after ")


@dataclass(frozen=True)
class NfcVerdict:
    verdict: str     # VERIFIED | CONTRADICTED | NOT_VERIFIED
    why: str         # one line: how it was verified, or what it depends on

    def line(self) -> str:
        return f"{self.verdict}: {self.why}" if self.why else self.verdict


def atom_name(atom: str) -> str:
    """How a note names an unmodelled atom: the rest of `f()` for what a hunk's window
    does not show, `copy_present_page(...)` for a long call, else the atom itself."""
    m = _REST.match(atom)
    if m:
        return f"the rest of `{m.group(1)}()`"
    m = _CALL.match(atom)
    if m and len(atom) > SHORT_ATOM:
        return f"`{m.group(1)}(...)`"
    return f"`{atom}`"


def _depends(atoms: list[str], whole: bool) -> str:
    names = []
    for a in atoms:
        if not a.startswith("reaching ") and atom_name(a) not in names:
            names.append(atom_name(a))
    if not names:
        return ""
    where = ", which the model does not read" if whole else ", not in the mail: give --tree or --repo"
    return "depends on " + ", ".join(names) + where


def judge(comparisons: dict, assertions_changed: bool, *, empty: bool, contradicted: bool,
          whole: bool) -> NfcVerdict:
    """The verdict on a claim, from PatchRules.comparisons() (point -> Comparison),
    whether an assertion changed, whether the patch has rules at all, whether an
    nfc-claim finding showed a difference, and whether the C was read whole (a tree
    or a repository) or from the mail's hunks."""
    differs = [p for p, c in comparisons.items() if c.verdict == "differs"]
    if contradicted:
        return NfcVerdict(CONTRADICTED, f"{', '.join(differs)} differ{'s' if len(differs) == 1 else ''}, "
                                        "and a trace shows it")
    if empty:
        return NfcVerdict(NOT_VERIFIED, "nothing bound to check it against")
    if differs:
        first = comparisons[differs[0]]
        return NfcVerdict(NOT_VERIFIED, f"{differs[0]} {first.describe()}, but no trace showed it "
                                        "observable")
    undecided = [c for c in comparisons.values() if c.verdict == "undecided"]
    if undecided:
        atoms = sorted({a for c in undecided for a in c.depends_on})
        return NfcVerdict(NOT_VERIFIED, _depends(atoms, whole) or undecided[0].why)
    if assertions_changed:
        return NfcVerdict(NOT_VERIFIED, "an assertion changed")
    contexts = sum(c.contexts for c in comparisons.values())
    if not comparisons:
        return NfcVerdict(VERIFIED, "the same assertions before and after, no decision")
    return NfcVerdict(VERIFIED, f"by truth tables over {contexts} contexts")
