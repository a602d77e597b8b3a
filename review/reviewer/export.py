"""Export a review (review.reviewer.state) as mail and as b4 external comments.

reply_messages(): one reply per patch that has something to say (a note, line
comments, trailers) and one to each cover letter with series-wide trailers or a note.
Each reply is threaded under the patch mail (In-Reply-To, References), addressed to
its author with the original To/Cc, and quotes only the hunks that carry comments:
the file header, the hunk header and the hunk's lines up to each commented line,
with the comment unquoted after it, as reviewers write on the list. write_mbox()
writes them as an mboxrd file ready for `git send-email` or a mail client.

export_b4(): the directory b4 review reads external reviews from,
`.git/b4-review/<tip-sha>/` with identity.txt, series.txt and NNNN.txt (1-based
patch number; a note, then the quoted diff with the comments inline). b4's
_integrate_agent_reviews reads these and anchors comments on the quoted lines.
"""
from __future__ import annotations

import email.policy
import email.utils
import os
import subprocess
import tempfile
from email.message import EmailMessage
from pathlib import Path

from review.errors import InputError
from review.model import Patch, Series
from review.reviewer.state import LineComment, ReviewState

CONTEXT = 6  # quoted lines kept before each comment

# Long lines in mail are the sender's; never re-wrap them (a patch line must survive).
_POLICY = email.policy.SMTP.clone(max_line_length=998)


def _quote(line: str) -> str:
    return "> " + line if line else ">"


def quoted_review(patch: Patch, comments: list[LineComment], state: ReviewState) -> list[str]:
    """The commented hunks of `patch`, quoted, each comment after its line (unquoted)."""
    out: list[str] = []
    by_line: dict[int, list[LineComment]] = {}
    for c in comments:
        if not c.text.strip():
            continue
        where = state.locate(patch, c)
        if where is None:
            # The line is gone from this input: keep the words, say where they were.
            out += ["", f"(on {c.file}:{c.line}, {c.side}-image)", c.text.rstrip(), ""]
            continue
        by_line.setdefault(id(where[2]), []).append(c)
    for f in patch.files:
        hunks = [h for h in f.hunks if any(id(ln) in by_line for ln in h.lines)]
        if not hunks:
            continue
        a = f"a/{f.old_path}" if f.old_path else "/dev/null"
        b = f"b/{f.new_path}" if f.new_path else "/dev/null"
        out.append(_quote(f"diff --git a/{f.old_path or f.new_path} b/{f.new_path or f.old_path}"))
        out += [_quote(f"--- {a}"), _quote(f"+++ {b}")]
        for h in hunks:
            out.append(_quote(h.header))
            # Quote up to CONTEXT lines before each comment (since the previous
            # one), eliding the rest with "[...]" as reviewers do; b4 and
            # review/inputs/quotes.py find the line by its text, not by counting.
            start = 0
            for i, ln in enumerate(h.lines):
                if id(ln) not in by_line:
                    continue
                first = max(start, i - CONTEXT)
                if first > start:
                    out.append(_quote("[...]"))
                for q in h.lines[first: i + 1]:
                    prefix = {"added": "+", "removed": "-"}.get(q.kind, " ")
                    out.append(_quote(prefix + q.text))
                for c in by_line[id(ln)]:
                    out += [""] + c.text.strip("\n").splitlines() + [""]
                start = i + 1
    while out and not out[-1]:
        out.pop()
    return out


def _attribution(patch: Patch) -> str:
    m = patch.message
    if m is None or m.date is None:
        return f"{patch.author} wrote:"
    return f"On {m.date.strftime('%a, %b %d, %Y at %H:%M:%S %z')}, {patch.author} wrote:"


def _reply(to_msg, subject: str, body: str, identity: str) -> EmailMessage:
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = identity
    if to_msg is not None:
        msg["To"] = to_msg.author
        cc = [a for a in (to_msg.to + to_msg.cc) if a and identity not in a]
        if cc:
            msg["Cc"] = ", ".join(cc)
        msg["In-Reply-To"] = f"<{to_msg.msgid}>"
        refs = [f"<{r}>" for r in to_msg.references if r != to_msg.msgid] + [f"<{to_msg.msgid}>"]
        msg["References"] = " ".join(refs)
    subj = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    msg["Subject"] = subj
    msg["Date"] = email.utils.formatdate(localtime=True)
    domain = identity.rsplit("@", 1)[-1].strip(">") or "mmreview.invalid"
    msg["Message-ID"] = email.utils.make_msgid(domain=domain)
    msg.set_content(body, charset="utf-8", cte="8bit")
    return msg


def patch_reply(patch: Patch, state: ReviewState) -> EmailMessage | None:
    review = state.review(patch)
    if not review.has_reply:
        return None
    lines: list[str] = []
    if review.note.strip():
        lines += [review.note.strip(), ""]
    quoted = quoted_review(patch, review.comments, state)
    if quoted:
        lines += [_attribution(patch)] + quoted
    if review.trailers:
        lines += [""] + review.trailers
    body = "\n".join(lines).strip("\n") + "\n"
    subject = patch.message.subject if patch.message else f"[PATCH] {patch.title}"
    return _reply(patch.message, subject, body, state.identity)


def cover_reply(series: Series, state: ReviewState) -> EmailMessage | None:
    if series.cover is None:
        return None
    note = state.series_notes.get(series.cover.msgid, "").strip()
    trailers = state.series_trailers.get(series.cover.msgid, [])
    if not note and not trailers:
        return None
    body = "\n".join(([note, ""] if note else []) + (["For the series:", ""] + trailers if trailers else []))
    return _reply(series.cover, series.cover.subject, body.strip("\n") + "\n", state.identity)


def reply_messages(patches: list[Patch], series: list[Series], state: ReviewState) -> list[EmailMessage]:
    out = [m for s in series if (m := cover_reply(s, state)) is not None]
    out += [m for p in patches if (m := patch_reply(p, state)) is not None]
    return out


def mbox_text(messages: list[EmailMessage]) -> str:
    """mboxrd: a From_ line per message; body lines matching '>*From ' gain a '>'."""
    chunks = []
    for msg in messages:
        text = msg.as_string(policy=_POLICY.clone(linesep="\n"))
        head, _, body = text.partition("\n\n")
        body_lines = [(">" + ln) if ln.lstrip(">").startswith("From ") else ln for ln in body.split("\n")]
        chunks.append(f"From mmreview {email.utils.formatdate(usegmt=True)}\n{head}\n\n"
                      + "\n".join(body_lines).rstrip("\n") + "\n")
    return "\n".join(chunks)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_mbox(path: Path, messages: list[EmailMessage]) -> Path:
    if not messages:
        raise InputError(f"{path}: nothing to export (no comments, notes or trailers yet)")
    _atomic_write(Path(path), mbox_text(messages))
    return Path(path)


# ------------------------------------------------------------------ b4 review
def _git(repo: Path, *args: str) -> str:
    try:
        res = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        raise InputError(f"{repo}: git failed ({exc})") from None
    if res.returncode != 0:
        raise InputError(f"{repo}: not a git repository enrolled in b4 review "
                         f"(git {' '.join(args)}: {res.stderr.strip().splitlines()[-1:] or ['failed']})")
    return res.stdout.strip()


REVIEW_BRANCH_PREFIX = "b4/review/"   # b4's review branches: b4/review/<change-id>


def review_tip(series: Series, repo: Path) -> str:
    """The b4 review branch of `series`: b4/review/<change-id> when it exists, else
    the checked-out branch if it is a b4 review branch; otherwise the repository is
    not enrolled for this series (InputError)."""
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


def export_b4(series: Series, state: ReviewState, repo: Path, tip: str | None = None) -> Path:
    """Write .git/b4-review/<tip-sha>/ for `series` (tip: its b4 review branch by
    default, see review_tip); returns the directory."""
    repo = Path(repo)
    _git(repo, "rev-parse", "--git-dir")
    tip = tip or review_tip(series, repo)
    sha = _git(repo, "rev-parse", "--verify", f"{tip}^{{commit}}")
    gitdir = Path(_git(repo, "rev-parse", "--absolute-git-dir"))
    out = gitdir / "b4-review" / sha
    wrote = 0
    files: dict[str, str] = {"identity.txt": state.identity + "\n"}
    if series.cover is not None:
        note = state.series_notes.get(series.cover.msgid, "").strip()
        trailers = state.series_trailers.get(series.cover.msgid, [])
        text = "\n".join(([note] if note else []) + trailers).strip()
        if text:
            files["series.txt"] = text + "\n"
            wrote += 1
    for patch in series.patches:
        review = state.review(patch)
        if not review.has_reply:
            continue
        parts = ([review.note.strip(), ""] if review.note.strip() else []) + review.trailers
        quoted = quoted_review(patch, review.comments, state)
        text = "\n".join(parts).strip()
        text = (text + "\n\n" if text else "") + "\n".join(quoted)
        files[f"{patch.counter:04d}.txt"] = text.rstrip("\n") + "\n"
        wrote += 1
    if not wrote:
        raise InputError(f"{series.title}: nothing to export (no comments, notes or trailers yet)")
    for name, text in files.items():
        _atomic_write(out / name, text)
    return out
