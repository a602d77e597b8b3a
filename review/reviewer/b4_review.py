"""b4 review's external comments, the one writer of `.git/b4-review/<tip-sha>/`.

b4 review (b4/review/_review.py `_integrate_agent_reviews`) reads, for the tip
commit of a review branch, `identity.txt` (who reviewed: `Name <mail>`),
`series.txt` (a note on the cover letter) and `NNNN.txt` (patch number, 1-based: a
note, then the patch's diff quoted with "> ", each comment right after the quoted
line it is about), and merges them into its tracking data the next time it opens
that branch. The reviewer's export (review/reviewer/export.py) and `mmreview check
--b4-review-tip` (review/check/integrations.py) both write through `write()`.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from review import terminal
from review.errors import InputError
from review.model import Series
from review.reviewer.files import atomic_write

REVIEW_BRANCH_PREFIX = "b4/review/"   # b4's review branches: b4/review/<change-id>


def _git(repo: Path, *args: str) -> str:
    try:
        res = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        raise InputError(f"{repo}: git failed ({exc})") from None
    if res.returncode != 0:
        why = res.stderr.strip().splitlines()[-1:] or ["failed"]
        raise InputError(f"{repo}: git {' '.join(args)}: {why[0]}")
    return res.stdout.strip()


def review_tip(series: Series, repo: Path) -> str:
    """The b4 review branch of `series`: b4/review/<change-id> when it exists, else
    the checked-out branch if it is a b4 review branch; otherwise the repository is
    not enrolled for this series (InputError)."""
    _git(repo, "rev-parse", "--git-dir")
    if series.change_id:
        branch = REVIEW_BRANCH_PREFIX + series.change_id
        try:
            _git(repo, "rev-parse", "--verify", "-q", f"refs/heads/{branch}")
            return branch
        except InputError:
            pass
    head = subprocess.run(["git", "-C", str(repo), "symbolic-ref", "-q", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    if head.startswith(REVIEW_BRANCH_PREFIX):
        return head
    want = REVIEW_BRANCH_PREFIX + (series.change_id or "<change-id>")
    raise InputError(f"{repo}: not enrolled in b4 review for this series (no branch {want}, and "
                     f"the checked-out branch {head or '(detached)'} is not a b4 review branch); "
                     "`b4 review` enrolls it")


def review_dir(repo: Path, tip: str) -> Path:
    """`.git/b4-review/<sha of tip>` of `repo` (in the common git directory: the one
    b4 finds under the top of the main work tree)."""
    sha = _git(repo, "rev-parse", "--verify", f"{tip}^{{commit}}")
    common = Path(_git(repo, "rev-parse", "--git-common-dir"))
    if not common.is_absolute():
        common = Path(repo) / common
    return common / "b4-review" / sha


def write(repo: str | Path, tip: str, identity: str, files: dict[str, str | None]) -> Path:
    """Write `files` (name -> text; None removes that file left by an earlier run)
    as `identity`'s review of `tip`; returns the directory. A directory another
    identity wrote into is left alone (InputError): reviews are never mixed."""
    out = review_dir(Path(repo), tip)
    ident = out / "identity.txt"
    if ident.exists():
        existing = ident.read_text(errors="replace").strip()
        if existing != identity:
            raise InputError(f"{ident}: written by {terminal.escape(' '.join(existing.split()))}, "
                             f"not {terminal.escape(identity)}; not mixing reviews")
    atomic_write(ident, identity + "\n")
    for name, text in files.items():
        path = out / name
        if text is not None:
            atomic_write(path, text)
        elif path.exists():
            path.unlink()
    return out
