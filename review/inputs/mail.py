"""Reading mail: mbox (mboxo, mboxrd), maildir, single .eml/.patch, raw bytes -> Message.

liblore does the splitting (split_mbox_as_bytes: mboxrd un-escaping, git's
From-line rule), message parsing (its email policy), msgid/subject/author/date
headers, subject prefixes (parse_patch_subject) and the choice between duplicate
copies (get_preferred_duplicate). Our own code, and why:
  - body decoding: liblore's msg_get_payload replaces undecodable bytes silently;
    a reviewer must know when the text they read is not what was sent, so
    _decode_body() records a warning on the message for every repair.
  - every header access is guarded: a single malformed header must cost a warning
    on that message, never the whole input.
"""
from __future__ import annotations

import email.header
import email.utils
import hashlib
import os
import re
from email.message import EmailMessage, Message as _EmailMessageBase
from pathlib import Path

from liblore import utils as lu
from liblore.series import parse_patch_subject

from review.errors import InputError
from review.model import Message, SubjectInfo

_MSGID_RE = re.compile(r"<([^<>\s]+)>")
# Text that is not mail at all: NUL bytes or mostly control characters.
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")  # RFC 5322 field name
_BARE_DIFF = re.compile(rb"^(diff --git |--- \S.*\n\+\+\+ |Index: )")


def _looks_binary(data: bytes) -> bool:
    head = data[:4096]
    if b"\x00" in head:
        return True
    return len(_CONTROL.findall(head)) > len(head) // 20


def looks_like_mbox(data: bytes) -> bool:
    return data.startswith(b"From ") and lu._is_from_line(data.split(b"\n", 1)[0] + b"\n")


def split_mbox(data: bytes, name: str) -> list[bytes]:
    """Split mbox bytes into raw messages (liblore: mboxrd un-escaping of '>+From ').

    mboxo and mboxrd both read: one '>' is removed from '>+From ' body lines, which
    is exact for mboxrd and for every mboxo line that was escaped (mboxo cannot
    represent a body line that really began with '>From ' anyway).
    """
    if not data.strip():
        raise InputError(f"{name}: empty input")
    if _looks_binary(data):
        raise InputError(f"{name}: not a mailbox (binary data)")
    data = data.replace(b"\r\n", b"\n").lstrip(b"\n")
    if looks_like_mbox(data):
        return [raw for raw in lu.split_mbox_as_bytes(data) if raw.strip()]
    if _BARE_DIFF.match(data):
        # `git diff` output or a .diff file: a patch without mail headers
        digest = hashlib.sha1(data).hexdigest()[:16]
        head = (f"Subject: [PATCH] {Path(name).name}\nMessage-Id: <{digest}@bare-diff.mmreview.invalid>\n"
                "X-Mmreview-Bare-Diff: yes\n\n").encode()
        return [head + b"---\n" + data]
    if _HEADER_LINE.match(data):
        return [data]  # a single message without an mbox From line
    raise InputError(f"{name}: not a mailbox or mail message (no 'From ' line or headers)")


def read_maildir(path: Path) -> list[tuple[bytes, str]]:
    out = []
    for sub in ("cur", "new"):
        d = path / sub
        if not d.is_dir():
            continue
        for entry in sorted(os.listdir(d)):
            p = d / entry
            if p.is_file() and not entry.startswith("."):
                out.append((p.read_bytes(), f"{path.name}/{sub}/{entry}"))
    return out


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


# --- one message ---------------------------------------------------------------------


def parse_bytes(raw: bytes, source: str, index: int) -> tuple[Message, EmailMessage]:
    """Parse one raw message. Never raises for bad content: damage becomes warnings."""
    warnings: list[str] = []
    raw = raw.replace(b"\r\n", b"\n")
    if b"\n\n" not in raw:
        warnings.append("no blank line after the headers (truncated message?)")
    raw_for_parser = _without_oversized_mime_headers(raw, warnings)
    try:
        em = lu.parse_message(raw_for_parser)
    except Exception as exc:  # the stdlib parser is lenient; this is a last resort
        warnings.append(f"unparsable message ({type(exc).__name__}); read as plain text")
        em = EmailMessage()
        em.set_payload(raw.decode("utf-8", "replace"))
    for defect in getattr(em, "defects", []):
        warnings.append(f"mail defect: {type(defect).__name__}")
    _drop_oversized_mime_headers(em, warnings)

    # liblore's get_clean_msgid reads the raw value first too, but builds its
    # fallback (the parsed header) eagerly; only ask it when the raw value fails.
    msgid = _first_msgid(_raw_header(em, "Message-Id", warnings)) or _safe(
        lambda: lu.get_clean_msgid(em), warnings, "Message-Id")
    if not msgid:
        digest = hashlib.sha1(raw).hexdigest()[:16]
        msgid = f"{digest}@mmreview.invalid"
        warnings.append("no Message-Id header; using a synthetic id")
    # Subject and From from the raw header text with liblore's clean_header: the
    # same result as msg_get_subject/msg_get_author, without the email package's
    # full header-registry parse, which costs most of the load time on big inputs.
    subject = _safe(lambda: lu.clean_header(_raw_header(em, "Subject", warnings) or ""), warnings, "Subject") or ""
    name, addr = _safe(lambda: _author(em, warnings), warnings, "From") or ("", "")
    if addr == "missing@address.local":
        if not _raw_header(em, "X-Mmreview-Bare-Diff"):
            warnings.append("no From header")
        addr = ""
    date = _header_date(em) or _safe(lambda: lu.msg_get_date(em), warnings, "Date")
    if date is None and _raw_header(em, "Date"):
        warnings.append("unreadable Date header")
    raw_irt = _raw_header(em, "In-Reply-To", warnings)
    in_reply_to = _first_msgid(raw_irt)
    if raw_irt and not in_reply_to:
        warnings.append("In-Reply-To header without a <message-id>")
    references = _MSGID_RE.findall(_raw_header(em, "References", warnings) or "")
    references = [r for r in references if r != msgid]
    if in_reply_to == msgid:
        in_reply_to = None
    to = _addresses(em, "To", warnings)
    cc = _addresses(em, "Cc", warnings)
    body, body_warnings = decode_body(em)
    warnings += body_warnings
    info = subject_info(subject)
    msg = Message(
        msgid=msgid, subject=subject, author_name=name or "", author_email=addr or "",
        date=date, body=body, in_reply_to=in_reply_to, references=references, to=to, cc=cc,
        subject_info=info, source=source, index=index, warnings=warnings, raw=raw,
    )
    return msg, em


def _decode_words(raw: str) -> str:
    """RFC 2047 encoded words decoded in a whole header (names in addresses too)."""
    if "=?" not in raw:
        return " ".join(raw.split())
    try:
        text = str(email.header.make_header(email.header.decode_header(raw)))
    except Exception:  # a broken encoded word: liblore's best effort
        return lu.clean_header(raw)
    return " ".join(text.split())


def _author(em: EmailMessage, warnings: list[str] | None = None) -> tuple[str, str]:
    """(name, email) as liblore's msg_get_author: X-Original-From (a list's DMARC
    rewrite keeps the sender there), else From."""
    for header in ("X-Original-From", "From"):
        raw = _raw_header(em, header, warnings)
        if raw:
            pairs = email.utils.getaddresses([_decode_words(raw)])
            if pairs and pairs[0][1]:
                return pairs[0]
    return ("", "missing@address.local")


def _header_date(em: EmailMessage):
    """The sender's Date header, as lore's thread overview shows it.

    liblore's msg_get_date prefers the last Received stamp (what a mirror saw);
    a reviewer reads the date the author wrote, so Date comes first here and
    Received is only the fallback.
    """
    raw = _raw_header(em, "Date")
    if not raw:
        return None
    try:
        return email.utils.parsedate_to_datetime(lu.clean_header(raw))
    except (ValueError, TypeError, IndexError, OverflowError):
        return None


def subject_info(subject: str) -> SubjectInfo:
    ps = parse_patch_subject(subject)
    return SubjectInfo(
        title=ps.title, is_patch=ps.is_patch, is_reply=ps.is_reply, version=ps.version,
        version_stated=not ps.version_inferred, counter=ps.counter, expected=ps.expected,
        counter_stated=not ps.counters_inferred, prefixes=tuple(ps.prefixes),
    )


def _safe(fn, warnings: list[str], what: str):
    try:
        return fn()
    except Exception as exc:  # a malformed header: keep the message, note the damage
        warnings.append(f"unreadable {what} header ({type(exc).__name__})")
        return None


# The email package parses a structured MIME header in time that grows with the square
# of its length (it sums the defects of every token again at each level): one
# Content-Transfer-Encoding header of 51,000 characters kept `show` busy for 18 s. No
# real MIME header comes near RFC 5322's line limit, so a longer one is dropped and the
# part's defaults apply (text/plain, 7bit), with a warning: from the raw message's own
# header before parsing (the parser reads Content-Type as it splits the body), and from
# every part after.
MAX_MIME_HEADER = 998
_MIME_HEADERS = frozenset({"content-type", "content-transfer-encoding", "content-disposition"})


def _without_oversized_mime_headers(raw: bytes, warnings: list[str]) -> bytes:
    """`raw` without MIME headers (with their folded lines) longer than MAX_MIME_HEADER
    in the message's own header and in the header of every part: the parser reads a
    part's Content-Type while it splits the body, before anything could drop it. A
    part's header is the lines after a line that starts with "--" (a boundary) up to
    the first blank line; a block that only looks like one (a diff's "--- a/file"
    line and what follows) keeps every line that is not an oversized MIME field."""
    if len(raw) <= MAX_MIME_HEADER:
        return raw
    lines = raw.split(b"\n")
    kept: list[bytes] = []
    field: list[bytes] = []       # the header field being read, with its folded lines
    in_head = True

    def flush() -> None:
        name, _, value = b"\n".join(field).partition(b":")
        name_text = name.strip().decode("ascii", "replace")
        size = len(value.strip())
        if name_text.lower() in _MIME_HEADERS and size > MAX_MIME_HEADER:
            warnings.append(f"{name_text} header of {size:,} characters ignored (longer than "
                            f"any real one); the part's default applies")
        else:
            kept.extend(field)
        field.clear()

    for line in lines:
        if in_head:
            if field and line[:1] in (b" ", b"\t"):
                field.append(line)        # a folded continuation of the field above
                continue
            if field:
                flush()
            if line.strip(b"\r") == b"":
                in_head = False
                kept.append(line)
            else:
                field.append(line)
            continue
        kept.append(line)
        in_head = line.startswith(b"--")
    if field:
        flush()
    return b"\n".join(kept)


def _drop_oversized_mime_headers(em: _EmailMessageBase, warnings: list[str]) -> None:
    for part in em.walk():
        for key, value in part.raw_items():
            if key.lower() in _MIME_HEADERS and len(str(value)) > MAX_MIME_HEADER:
                del part[key]
                warnings.append(f"{key} header of {len(str(value)):,} characters ignored "
                                f"(longer than any real one); the part's default applies")


def _raw_header(em: _EmailMessageBase, name: str, warnings: list[str] | None = None) -> str | None:
    """The header's text as sent. 8-bit bytes (the parser keeps them as surrogate
    escapes, which no terminal or JSON encoder accepts) are read as UTF-8 (RFC 6532),
    and anything that is not UTF-8 is replaced, with a warning."""
    wanted = name.lower()
    try:
        for k, v in em.raw_items():
            if k.lower() == wanted:
                return _unescape(str(v), name, warnings)
    except Exception:
        return None
    return None


_SURROGATE = re.compile("[\udc80-\udcff]")


def _unescape(text: str, what: str, warnings: list[str] | None) -> str:
    if not _SURROGATE.search(text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if warnings is not None:
            warnings.append(f"8-bit {what} header is not UTF-8; bytes replaced with U+FFFD")
        return raw.decode("utf-8", "replace")


def _first_msgid(value: str | None) -> str | None:
    if not value:
        return None
    m = _MSGID_RE.search(value)
    return m.group(1) if m else None


def _addresses(em: EmailMessage, header: str, warnings: list[str]) -> list[str]:
    raw = _raw_header(em, header, warnings)
    if not raw:
        return []
    try:
        pairs = email.utils.getaddresses([_decode_words(raw)])
    except Exception:
        warnings.append(f"unreadable {header} header")
        return []
    # not formataddr: it raises on a non-ASCII address, and these are only shown
    return [f"{n} <{a}>" if n else a for n, a in pairs if a]


def _text_part(em: EmailMessage) -> _EmailMessageBase | None:
    try:
        part = em.get_body(preferencelist=("plain",))
    except Exception:
        part = None
    if part is not None:
        return part
    if not em.is_multipart() and em.get_content_maintype() == "text":
        return em
    return None


def _patch_attachments(em: EmailMessage, body_part) -> list[_EmailMessageBase]:
    """text/x-patch / text/x-diff attachments (patches sent as attachments)."""
    if not em.is_multipart():
        return []
    out = []
    for part in em.walk():
        if part is body_part or part.is_multipart():
            continue
        if part.get_content_type() in ("text/x-patch", "text/x-diff", "text/x-csrc"):
            out.append(part)
        elif part.get_content_type() == "text/plain" and (part.get_filename() or "").endswith(
            (".patch", ".diff")
        ):
            out.append(part)
    return out


def decode_body(em: EmailMessage) -> tuple[str, list[str]]:
    """The text/plain body (plus patch attachments), with a warning for every repair."""
    try:
        return _decode_body(em)
    except RecursionError:  # the email package parses a header's nested comments recursively
        return "", ["a MIME header nests too deeply (comments in parentheses); body not read"]


def _decode_body(em: EmailMessage) -> tuple[str, list[str]]:
    warnings: list[str] = []
    part = _text_part(em)
    if part is None:
        warnings.append(f"no text/plain part (content type {em.get_content_type()})")
        return "", warnings
    texts = []
    for p in [part, *_patch_attachments(em, part)]:
        text, w = _decode_part(p)
        # a transfer encoding (base64, quoted-printable) keeps the sender's CRLF line
        # ends inside the decoded text; the raw message's were undone before parsing
        texts.append(text.replace("\r\n", "\n"))
        warnings += w
    return "\n".join(texts), warnings


def _decode_part(part: _EmailMessageBase) -> tuple[str, list[str]]:
    warnings: list[str] = []
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:
        warnings.append(f"cannot decode {cte or 'body'} ({type(exc).__name__}); raw text shown")
        payload = part.get_payload(decode=False)
    for defect in getattr(part, "defects", []):
        name = type(defect).__name__
        if "Base64" in name:
            warnings.append(f"broken base64 body ({name}); decoded what was readable")
    if payload is None:
        return "", warnings
    if isinstance(payload, str):
        return _unescape(payload, "body", warnings), warnings
    if isinstance(payload, list):  # message/rfc822 and friends
        return "", warnings + ["body is an attached message; not read"]
    declared = part.get_content_charset()
    charset = declared or "us-ascii"
    try:
        return payload.decode(charset), warnings
    except LookupError:
        warnings.append(f"unknown charset {charset!r}; read as UTF-8")
    except UnicodeDecodeError:
        if declared is None or charset in ("us-ascii", "ascii"):
            # 8-bit text labelled ASCII (or not labelled) is almost always UTF-8.
            try:
                text = payload.decode("utf-8")
                warnings.append(f"8-bit text declared {charset}; read as UTF-8")
                return text, warnings
            except UnicodeDecodeError:
                pass
        warnings.append(f"bytes not valid in charset {charset}; replaced with U+FFFD")
        try:
            return payload.decode(charset, "replace"), warnings
        except LookupError:
            pass
    return payload.decode("utf-8", "replace"), warnings


# --- many messages --------------------------------------------------------------------


def parse_many(raws: list[tuple[bytes, str]]) -> tuple[list[Message], dict[str, EmailMessage], int]:
    """Parse raw messages; drop duplicate copies (same Message-Id), keeping the copy
    liblore prefers (by List-Id, b4's listid-preference). Returns (messages in input
    order, msgid -> parsed email, number of duplicates dropped)."""
    by_id: dict[str, tuple[Message, EmailMessage]] = {}
    order: list[str] = []
    dropped = 0
    for index, (raw, source) in enumerate(raws):
        msg, em = parse_bytes(raw, source, index)
        if msg.msgid in by_id:
            dropped += 1
            old_msg, old_em = by_id[msg.msgid]
            try:
                keep_new = lu.get_preferred_duplicate(old_em, em) is em
            except Exception:
                keep_new = False
            if keep_new:
                msg.index = old_msg.index
                by_id[msg.msgid] = (msg, em)
            continue
        by_id[msg.msgid] = (msg, em)
        order.append(msg.msgid)
    messages = [by_id[i][0] for i in order]
    return messages, {i: by_id[i][1] for i in order}, dropped
