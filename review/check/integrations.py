"""Wiring `mmreview check` into the tools mm developers already run.

- git's `sendemail-validate` hook: git send-email runs it once per mail with the
  mail's file as $1 (and, since git 2.42, an SMTP-headers file as $2) in the
  repository's top directory; a non-zero exit stops the send. `install_sendemail_hook`
  writes a hook that runs the check on $1 and refuses to replace a hook it did not
  write.
- b4's check commands: `b4.prep-perpatch-check-cmd` and `b4.am-perpatch-check-cmd`
  read checkpatch-style lines, `b4.review-perpatch-check-cmd` a JSON list; b4 feeds
  one patch mail on stdin and runs the command in the repository's top directory.
  `b4_config` gives the exact values.
- b4 review's external comments (review/reviewer/b4_review.py writes them):
  `NNNN.txt` (patch number, 1-based) holds a note and the patch's diff quoted with
  "> ", each finding right after the quoted line it is about. `write_b4_review`
  turns a report into them.
"""
from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from review.errors import InputError
from review.report import locate, one_line
from review.report.types import CheckFinding, CheckReport
from review.report.text import trace_lines
from review.reviewer import b4_review

HOOK_MARKER = "# written by mmreview (review/check/integrations.py)"
DEFAULT_IDENTITY = "mmreview <mmreview@invalid>"


def mmreview_argv() -> list[str]:
    """How to run this very mmreview from a hook: the interpreter that runs us, so a
    hook works without the virtualenv on PATH."""
    return [sys.executable, "-m", "mmreview.cli"]


def _git(repo: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(repo), *args], check=True,
                             capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise InputError("git is not installed") from exc
    except subprocess.CalledProcessError as exc:
        msg = (exc.stderr or "").strip().splitlines()
        raise InputError(f"{repo}: git {' '.join(args)}: {msg[-1] if msg else 'failed'}") from exc
    return out.stdout.strip()


# --- git send-email ------------------------------------------------------------

def sendemail_hook_text(check_args: list[str] | None = None) -> str:
    # git runs the hook in the top directory of the work tree: with `--repo .` whole
    # files come from the repository (the blobs the patch's index lines name, which
    # the commits being sent hold), else from the hunks
    args = ["check", "--no-patch-ok", "--repo", ".", "--format", "text"] + list(check_args or [])
    cmd = " ".join(shlex.quote(a) for a in mmreview_argv() + args)
    return (
        "#!/bin/sh\n"
        f"{HOOK_MARKER}\n"
        "# git send-email runs this once per mail: $1 is the mail, $2 (git >= 2.42)\n"
        "# its SMTP headers. A cover letter has no patch and passes.\n"
        f"exec {cmd} -- \"$1\"\n"
    )


def install_sendemail_hook(repo: str | Path, check_args: list[str] | None = None,
                           force: bool = False) -> Path:
    """Write <git-dir>/hooks/sendemail-validate (honouring core.hooksPath). An existing
    hook that mmreview did not write is left alone unless `force`."""
    repo = Path(repo)
    hook = Path(_git(repo, "rev-parse", "--git-path", "hooks/sendemail-validate"))
    if not hook.is_absolute():
        hook = repo / hook
    if hook.exists() and HOOK_MARKER not in hook.read_text(errors="replace") and not force:
        raise InputError(f"{hook}: a sendemail-validate hook exists and was not written by "
                         "mmreview; not replacing it (add `mmreview check` to it yourself)")
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(sendemail_hook_text(check_args))
    hook.chmod(0o755)
    return hook


# --- b4 check commands ---------------------------------------------------------

def b4_config(check_args: list[str] | None = None, argv: list[str] | None = None) -> dict[str, str]:
    """The git-config values that make b4 run mmreview on every patch."""
    # b4 runs the command in the repository's top directory: `--repo .` gives whole
    # files from the repository (index-line blobs, base-commit, HEAD), else the hunks
    base = (argv or ["mmreview"]) + ["check", "-", "--no-patch-ok", "--repo", "."] + list(check_args or [])
    terse = " ".join(shlex.quote(a) for a in base + ["--format", "checkpatch"])
    review = " ".join(shlex.quote(a) for a in base + ["--format", "b4"])
    return {
        "b4.prep-perpatch-check-cmd": terse,
        "b4.am-perpatch-check-cmd": terse,
        "b4.review-perpatch-check-cmd": review,
    }


def b4_config_commands(check_args: list[str] | None = None, argv: list[str] | None = None) -> str:
    return "".join(f"git config --add {k} {shlex.quote(v)}\n"
                   for k, v in b4_config(check_args, argv).items())


# --- b4 review external comments -------------------------------------------------

def _comment(f: CheckFinding) -> list[str]:
    label = {"error": "ERROR", "warning": "WARNING", "note": "NOTE"}[f.severity]
    lines = [f"mmreview {label}: {f.id}: {one_line(f.message)}"]
    if f.rule:
        lines.append(f"  rule: {one_line(f.rule)}")
    return lines + trace_lines(f)


def review_file_text(diff_text: str, findings: list[CheckFinding], note: list[str]) -> str:
    """One NNNN.txt: the note, then the diff quoted with "> ", each finding's comment
    after the quoted line of its file and line (the nearest shown line when the hunk
    does not carry it). Findings without a place go into the note."""
    lines = diff_text.splitlines()
    after: dict[int, list[CheckFinding]] = {}
    placeless: list[CheckFinding] = []
    for f in findings:
        pos = locate.find(lines, f.file, f.line, f.image) if f.file and f.line else None
        if pos is None:
            placeless.append(f)
        else:
            after.setdefault(pos.index, []).append(f)
    out = list(note)
    for f in placeless:
        out.extend(_comment(f))
    out.append("")
    for i, line in enumerate(lines):
        out.append(f"> {line}" if line else ">")
        for f in after.get(i, ()):
            out.append("")
            out.extend(_comment(f))
            out.append("")
    return "\n".join(out) + "\n"


def write_b4_review(repo: str | Path, tip: str, report: CheckReport, diffs: list[str],
                    identity: str = DEFAULT_IDENTITY) -> Path:
    """Write the b4 review comments of `report` for `tip`, whose patches are, in order,
    the commits b4 review lists for that branch (diffs[i] is patch i+1's diff).
    Another reviewer's files in that directory are never overwritten."""
    files: dict[str, str | None] = {}
    for p, diff in zip(report.patches, diffs):
        name = f"{p.patch.index:04d}.txt"
        if not p.findings:
            files[name] = None   # ours from an earlier run: the patch is clean now
            continue
        c = p.counts()
        note = [f"mmreview check: {c['error']} errors, {c['warning']} warnings, {c['note']} notes "
                f"(seed {report.seed})"]
        note += [f"checked: {one_line(x)}" for x in p.checked]
        files[name] = review_file_text(diff, p.findings, note)
    return b4_review.write(repo, tip, identity, files)


