"""Export a review (review.reviewer.state) as reply mail and as b4 external comments.

reply_messages(): one reply per patch that has something to say (a note, line
comments, trailers), one to each cover letter with series-wide trailers or a note,
and one per free-text reply to any other message, in thread order. Each reply:
- is threaded under the message it answers (In-Reply-To, References);
- is addressed To its author and Cc the original To and Cc, each address once,
  never the reviewer, folded at 78 columns as RFC 5322 asks (email.policy);
- quotes only what the comments need: for a patch, the file and hunk headers and
  up to CONTEXT lines before each commented line, with the comment unquoted after
  it, as reviewers write on the list; in a free-text reply, the quoted lines the
  reviewer kept, cut to CONTEXT before each of their own paragraphs;
- ends with the trailers, one per line, in `Name: Full Name <mail>` form;
- is From the reviewer's identity (review/reviewer/identity.py): without one there
  is no export, and the error says how to set one.
review/reviewer/mail_files.py writes them for mail tools (mbox, .eml files).

export_b4(): the same review as b4 review's external comments (review/reviewer/
b4_review.py writes them): series.txt for the cover letter's note and trailers,
NNNN.txt per patch (1-based: the note and trailers, then the quoted diff with the
comments inline), which b4 anchors on the quoted lines.
"""
from __future__ import annotations

import email.policy
import email.utils
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from review.errors import InputError
from review.model import Message, Patch, Series
from review.reviewer import b4_review
from review.reviewer import identity as ident
from review.reviewer.state import LineComment, ReviewState

CONTEXT = 6  # quoted lines kept before each comment

# Headers fold within 78 columns (RFC 5322; the folder can overshoot its limit by
# the comma after an address, hence 77); bodies are 8-bit and never re-wrapped, as
# a quoted patch line must survive. Lines end in LF: mailbox and git send-email
# take it, and SMTP's CRLF is the sender's business.
POLICY = email.policy.default.clone(max_line_length=77)


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


def _attribution(msg: Message | None, author: str) -> str:
    if msg is None or msg.date is None:
        return f"{author} wrote:"
    return f"On {msg.date.strftime('%a, %b %d, %Y at %H:%M:%S %z')}, {author} wrote:"


def attribution(msg: Message) -> str:
    """The line above a quote of `msg`: "On <date>, <author> wrote:"."""
    return _attribution(msg, msg.author)


def quote_body(msg: Message) -> str:
    """`msg`'s body quoted for a reply, signature left out, under its attribution:
    the text a free-text reply starts from."""
    body = msg.body.split("\n-- \n", 1)[0].rstrip()
    return attribution(msg) + "\n" + "\n".join(_quote(ln) for ln in body.split("\n")) + "\n"


def _is_quote(line: str) -> bool:
    return line.startswith(">")


def trim_quotes(text: str) -> str:
    """A free-text reply with only the quotes its paragraphs need: up to CONTEXT
    quoted lines before each of the reviewer's own lines ("> [...]" for the rest),
    no quote after the last of them, no attribution line left without its quote."""
    lines = text.strip("\n").split("\n")
    kinds = [_kind(lines, i) for i in range(len(lines))]
    if "own" not in kinds:
        return ""
    last = len(kinds) - 1 - kinds[::-1].index("own")
    out: list[str] = []
    quote: list[str] = []            # quoted lines (and blanks among them) not yet kept
    attribution = ""
    for line, kind in zip(lines[: last + 1], kinds):
        if kind == "quote" or (kind == "blank" and quote):
            quote.append(line)
        elif kind == "attribution":
            attribution, quote = line, []
        elif kind == "blank":
            out.append(line)
        else:
            if quote:
                out += ([attribution] if attribution else []) + _context(quote)
            out.append(line)
            quote, attribution = [], ""
    return _squeeze(out)


def _kind(lines: list[str], i: int) -> str:
    line = lines[i]
    if line.startswith(">"):
        return "quote"
    if not line.strip():
        return "blank"
    if line.rstrip().endswith("wrote:") and i + 1 < len(lines) and lines[i + 1].startswith(">"):
        return "attribution"
    return "own"


def _context(quote: list[str]) -> list[str]:
    """The last CONTEXT quoted lines of a passage, "> [...]" for the rest; a blank
    line after it if it had one."""
    gap = [""] if not quote[-1].strip() else []
    while quote and not quote[-1].strip():
        quote = quote[:-1]
    quoted = [i for i, ln in enumerate(quote) if ln.strip()]
    if len(quoted) > CONTEXT:
        quote = ["> [...]"] + quote[quoted[-CONTEXT]:]
    return quote + gap


def _squeeze(lines: list[str]) -> str:
    out: list[str] = []
    for ln in lines:
        if not ln.strip() and (not out or not out[-1].strip()):
            continue
        out.append(ln.rstrip())
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def _address(text: str) -> Address | None:
    name, lt, rest = text.rpartition("<")
    addr = rest.rstrip().rstrip(">").strip() if lt else text.strip()
    if not addr or "@" not in addr:
        return None
    try:
        return Address(display_name=name.strip().strip('"') if lt else "", addr_spec=addr)
    except (ValueError, IndexError, TypeError):
        return None     # not an address a reply can go to


def recipients(msg: Message, me: str) -> tuple[list[Address], list[Address]]:
    """(To, Cc) of a reply to `msg`: its author first, then everyone it was sent to;
    each address once (case-insensitively) and never the reviewer."""
    seen = {ident.split(me)[1].lower()}
    out: list[Address] = []
    for text in [msg.author] + msg.to + msg.cc:
        a = _address(text)
        if a is None or a.addr_spec.lower() in seen:
            continue
        seen.add(a.addr_spec.lower())
        out.append(a)
    return out[:1], out[1:]


def _reply(to_msg: Message | None, subject: str, body: str, identity: str) -> EmailMessage:
    name, addr = ident.split(ident.require(identity))
    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(display_name=name, addr_spec=addr)
    if to_msg is not None:
        to, cc = recipients(to_msg, identity)
        if to:
            msg["To"] = to
        if cc:
            msg["Cc"] = cc
        msg["In-Reply-To"] = f"<{to_msg.msgid}>"
        refs = [f"<{r}>" for r in to_msg.references if r != to_msg.msgid] + [f"<{to_msg.msgid}>"]
        msg["References"] = " ".join(refs)
    subj = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    msg["Subject"] = subj
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg["Message-ID"] = email.utils.make_msgid(domain=addr.rsplit("@", 1)[-1])
    msg.set_content(body, charset="utf-8", cte="8bit")
    return msg


def _with_trailers(lines: list[str], trailers: list[str]) -> str:
    """The body: the text, a blank line, then the trailers (each once), last."""
    text = "\n".join(lines).strip("\n")
    unique = list(dict.fromkeys(t.strip() for t in trailers if t.strip()))
    if unique:
        text = (text + "\n\n" if text else "") + "\n".join(unique)
    return text + "\n"


def patch_reply(patch: Patch, state: ReviewState) -> EmailMessage | None:
    review = state.review(patch)
    if not review.has_reply:
        return None
    lines: list[str] = []
    if review.note.strip():
        lines += [review.note.strip(), ""]
    quoted = quoted_review(patch, review.comments, state)
    if quoted:
        lines += [_attribution(patch.message, patch.author)] + quoted
    subject = patch.message.subject if patch.message else f"[PATCH] {patch.title}"
    return _reply(patch.message, subject, _with_trailers(lines, review.trailers), state.identity)


def cover_reply(series: Series, state: ReviewState) -> EmailMessage | None:
    if series.cover is None:
        return None
    note = trim_quotes(state.series_notes.get(series.cover.msgid, ""))
    trailers = state.series_trailers.get(series.cover.msgid, [])
    if not note and not trailers:
        return None
    lines = ([note.rstrip("\n"), ""] if note else []) + (["For the series:"] if trailers else [])
    return _reply(series.cover, series.cover.subject, _with_trailers(lines, trailers), state.identity)


def free_reply(msg: Message, state: ReviewState) -> EmailMessage | None:
    """The reviewer's free-text reply to `msg`, quotes trimmed."""
    text = trim_quotes(state.replies.get(msg.msgid, ""))
    if not text:
        return None
    return _reply(msg, msg.subject, text, state.identity)


def reply_messages(patches: list[Patch], series: list[Series], state: ReviewState,
                   messages: list[Message] = ()) -> list[EmailMessage]:
    """Every reply the review makes, in the order of the messages they answer
    (`messages`: the thread order; replies to messages not in it come last).
    InputError(identity.HINT) when the reviewer has no identity to sign them with."""
    answered: list[tuple[Message | None, EmailMessage]] = []
    for s in series:
        if (m := cover_reply(s, state)) is not None:
            answered.append((s.cover, m))
    for p in patches:
        if (m := patch_reply(p, state)) is not None:
            answered.append((p.message, m))
    covers = {s.cover.msgid for s in series if s.cover is not None}
    patch_mails = {p.message.msgid for p in patches if p.message is not None}
    for msg in messages:
        if msg.msgid not in covers and msg.msgid not in patch_mails:
            if (m := free_reply(msg, state)) is not None:
                answered.append((msg, m))
    order = {m.msgid: i for i, m in enumerate(messages)}
    answered.sort(key=lambda pair: order.get(pair[0].msgid, len(order)) if pair[0] else len(order))
    return [m for _, m in answered]


# ------------------------------------------------------------------ b4 review
def export_b4(series: Series, state: ReviewState, repo: Path, tip: str | None = None) -> Path:
    """Write `series`' review as b4 external comments for `tip` (default: its b4 review
    branch, see b4_review.review_tip); returns the directory. Files of an earlier
    export whose patch has nothing to say any more are removed."""
    repo = Path(repo)
    who = ident.require(state.identity)
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
    return b4_review.write(repo, tip, who, files)
