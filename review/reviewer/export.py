"""Export a review (review.reviewer.state) as mail and as b4 external comments.

reply_messages(): one reply per patch that has something to say (a note, line
comments, trailers) and one to each cover letter with series-wide trailers or a note.
Each reply is threaded under the patch mail (In-Reply-To, References), addressed to
its author with the original To/Cc, and quotes only the hunks that carry comments:
the file header, the hunk header and the hunk's lines up to each commented line,
with the comment unquoted after it, as reviewers write on the list. write_mbox()
writes them as an mboxrd file ready for `git send-email` or a mail client.

export_b4(): the same review as b4 review's external comments (review/reviewer/
b4_review.py writes them): series.txt for the cover letter's note and trailers,
NNNN.txt per patch (1-based: the note and trailers, then the quoted diff with the
comments inline), which b4 anchors on the quoted lines.
"""
from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage
from pathlib import Path

from review.errors import InputError
from review.model import Patch, Series
from review.reviewer import b4_review
from review.reviewer.files import atomic_write
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


def write_mbox(path: Path, messages: list[EmailMessage]) -> Path:
    if not messages:
        raise InputError(f"{path}: nothing to export (no comments, notes or trailers yet)")
    atomic_write(Path(path), mbox_text(messages))
    return Path(path)


# ------------------------------------------------------------------ b4 review
def export_b4(series: Series, state: ReviewState, repo: Path, tip: str | None = None) -> Path:
    """Write `series`' review as b4 external comments for `tip` (default: its b4 review
    branch, see b4_review.review_tip); returns the directory. Files of an earlier
    export whose patch has nothing to say any more are removed."""
    repo = Path(repo)
    tip = tip or b4_review.review_tip(series, repo)
    files: dict[str, str | None] = {}
    if series.cover is not None:
        note = state.series_notes.get(series.cover.msgid, "").strip()
        trailers = state.series_trailers.get(series.cover.msgid, [])
        text = "\n".join(([note] if note else []) + trailers).strip()
        files["series.txt"] = text + "\n" if text else None
    for patch in series.patches:
        review = state.review(patch)
        name = f"{patch.counter:04d}.txt"
        if not review.has_reply:
            files[name] = None
            continue
        parts = ([review.note.strip(), ""] if review.note.strip() else []) + review.trailers
        quoted = quoted_review(patch, review.comments, state)
        text = "\n".join(parts).strip()
        text = (text + "\n\n" if text else "") + "\n".join(quoted)
        files[name] = text.rstrip("\n") + "\n"
    if not any(files.values()):
        raise InputError(f"{series.title}: nothing to export (no comments, notes or trailers yet)")
    return b4_review.write(repo, tip, state.identity, files)
