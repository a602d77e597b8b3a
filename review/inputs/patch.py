"""Patches: commit message / '---' notes / diff split, and unified-diff parsing.

The body split is liblore's split_body_parts (b4's rules: trailers from the last
paragraph, '---' only when there is a real diff, signature after '-- '). The diff
is parsed file by file with unidiff. Our own code, and why:
  - unidiff does not record git's rename/copy/similarity lines: read here from the
    file's extended header;
  - unidiff stops at the first hunk whose @@ line counts disagree with its body
    (or silently hands the surplus lines to the next header): such a file is
    re-read by _lenient_hunks(), which trusts the lines that are there and puts a
    warning on the hunk, so one miscounted hunk (common in hand-edited patches)
    does not hide the rest of the patch;
  - inline patches inside replies ("I'm testing with the following: ...") are
    found by find_inline_patch(); liblore only looks at whole messages.
"""
from __future__ import annotations

import email.utils
import re

from liblore import utils as lu
from liblore.series import parse_patch_subject
from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from review.inputs import bodyparts
from review.model import DiffLine, FileDiff, Hunk, Patch

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
_DIFF_START = re.compile(r"^(diff --git |--- (?:a/|/dev/null)|Index: )", re.M)
_FORMAT_PATCH_FROM = re.compile(r"^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$")
_SCISSORS = re.compile(r"^\s*-+\s*>8\s*-+\s*$|^\s*-+\s*8<\s*-+\s*$")
_GIT_HEADER = re.compile(r"^diff --git (?:\"?[a-z0-9]/)?(.+?) (?:\"?[a-z0-9]/)?(.+?)\"?$")


# --- body split ------------------------------------------------------------------------


def split_patch_body(body: str) -> dict:
    """Split a patch mail body: {'githeaders', 'message', 'trailers', 'notes', 'diff'}.

    'message' is the commit message without its trailer block; 'notes' is what sits
    between '---' and the diff (diffstat, changelog); 'diff' starts at the first
    file header.
    """
    parts = bodyparts.split_body_parts(body)
    basement = parts.basement
    m = _DIFF_START.search(basement)
    if m:
        notes, diff = basement[: m.start()], basement[m.start() :]
    else:
        notes, diff = basement, ""
    if not diff:  # a diff without '---' before it: liblore kept it in the message
        m = _DIFF_START.search(parts.message)
        if m and lu.body_has_diff(parts.message[m.start() :]):
            return {
                "githeaders": parts.githeaders, "message": parts.message[: m.start()].strip("\n"),
                "trailers": parts.trailers, "notes": "", "diff": parts.message[m.start() :],
            }
    return {
        "githeaders": parts.githeaders, "message": parts.message.strip("\n"),
        "trailers": parts.trailers, "notes": notes.strip("\n"), "diff": diff,
    }


def find_inline_patch(body: str) -> str | None:
    """The patch a reply carries in its own (unquoted) text, or None.

    It starts at a format-patch 'From <sha> ...' line, a scissors line, or the
    in-body 'From:'/'Subject:' block right before the diff, else at the diff itself;
    it ends where quoting resumes or at the signature.
    """
    lines = body.split("\n")
    span = _inline_span(lines)
    if span is None:
        return None
    text = "\n".join(lines[span[0]:span[1]]).strip("\n")
    return text + "\n" if text else None


def reply_around_inline_patch(body: str) -> tuple[str, str]:
    """A reply's own text before and after the patch it carries (its prose, quotes,
    signature); (body, "") when it carries none."""
    lines = body.split("\n")
    span = _inline_span(lines)
    if span is None:
        return body, ""
    start, end = span
    before = lines[:start]
    while before and (_SCISSORS.match(before[-1]) or _FORMAT_PATCH_FROM.match(before[-1])):
        before.pop()
    return "\n".join(before).rstrip("\n"), "\n".join(lines[end:]).strip("\n")


def _inline_span(lines: list[str]) -> tuple[int, int] | None:
    """(first line, line after the last) of the inline patch in a reply's lines."""
    start_diff = None
    for i, line in enumerate(lines):
        if line.startswith("diff --git ") or (
            line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")
        ):
            start_diff = i
            break
    if start_diff is None:
        return None
    start = start_diff
    for j in range(start_diff - 1, -1, -1):
        line = lines[j]
        if line.startswith(">"):
            break
        if _FORMAT_PATCH_FROM.match(line) or _SCISSORS.match(line):
            start = j + 1
            break
        if line.startswith("Subject: ") and j + 1 < start_diff:
            start = j
            while start > 0 and re.match(r"^(From|Date|Subject): ", lines[start - 1]):
                start -= 1
            break
    end = len(lines)
    for k in range(start_diff, len(lines)):
        if lines[k].startswith(">") or lines[k] == "-- ":
            end = k
            break
    return start, end


# --- diff parsing ---------------------------------------------------------------------


def _file_chunks(diff: str) -> list[str]:
    """Cut a multi-file diff into one chunk per file."""
    lines = diff.split("\n")
    starts = [i for i, l in enumerate(lines) if l.startswith("diff --git ")]
    if not starts:
        starts = [
            i for i, l in enumerate(lines)
            if l.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")
        ]
    if not starts:
        return []
    starts.append(len(lines))
    return ["\n".join(lines[a:b]) + "\n" for a, b in zip(starts, starts[1:])]


def _strip_prefix(path: str | None) -> str | None:
    if path is None:
        return None
    path = path.strip()
    if path.startswith('"') and path.endswith('"'):
        path = path[1:-1]
    if path == "/dev/null":
        return None
    if len(path) > 2 and path[1] == "/" and path[0] in "abciow12":
        return path[2:]
    return path


_INDEX = re.compile(r"^index ([0-9a-fA-F]{4,64})\.\.([0-9a-fA-F]{4,64})(?: \d+)?$")


def _extended_header(chunk: str, fd: FileDiff) -> None:
    """git's extended header lines: rename/copy, similarity, modes, new/deleted file."""
    for line in chunk.split("\n"):
        if line.startswith("@@"):
            break
        if line.startswith("rename from "):
            fd.old_path, fd.status = line[12:], "renamed"
        elif line.startswith("rename to "):
            fd.new_path, fd.status = line[10:], "renamed"
        elif line.startswith("copy from "):
            fd.old_path, fd.status = line[10:], "copied"
        elif line.startswith("copy to "):
            fd.new_path, fd.status = line[8:], "copied"
        elif line.startswith(("similarity index ", "dissimilarity index ")):
            try:
                fd.similarity = int(line.rsplit(" ", 1)[1].rstrip("%"))
            except ValueError:
                fd.warnings.append(f"unreadable {line!r}")
        elif line.startswith("new file mode "):
            fd.status, fd.old_path, fd.new_mode = "added", None, line[14:]
        elif line.startswith("deleted file mode "):
            fd.status, fd.new_path, fd.old_mode = "deleted", None, line[18:]
        elif line.startswith("old mode "):
            fd.old_mode = line[9:]
        elif line.startswith("new mode "):
            fd.new_mode = line[9:]
        elif m := _INDEX.match(line):
            fd.old_blob, fd.new_blob = m.group(1).lower(), m.group(2).lower()
        elif line.startswith("Binary files ") or line == "GIT binary patch":
            fd.is_binary = True


def _from_unidiff(pf) -> list[Hunk]:
    hunks = []
    for hi, h in enumerate(pf):
        hunk = Hunk(h.source_start, h.source_length, h.target_start, h.target_length,
                    section=(h.section_header or "").strip(), index=hi)
        for line in h:
            if line.line_type == "\\":
                if hunk.lines:
                    hunk.lines[-1].no_newline = True
                continue
            kind = {"+": "added", "-": "removed"}.get(line.line_type, "context")
            text = line.value[:-1] if line.value.endswith("\n") else line.value
            hunk.lines.append(DiffLine(kind, text, line.source_line_no, line.target_line_no,
                                       index=len(hunk.lines)))
        hunks.append(hunk)
    return hunks


def _lenient_hunks(chunk: str) -> list[Hunk]:
    """Read hunks trusting their lines, not their @@ counts; warn where they disagree."""
    hunks: list[Hunk] = []
    cur: Hunk | None = None
    old = new = 0
    for raw in chunk.split("\n"):
        m = _HUNK_RE.match(raw)
        if m:
            cur = Hunk(int(m.group(1)), int(m.group(2) or 1), int(m.group(3)),
                       int(m.group(4) or 1), section=m.group(5).strip(), index=len(hunks))
            hunks.append(cur)
            old, new = cur.old_start, cur.new_start
            continue
        if cur is None:
            continue
        if raw.startswith("\\"):
            if cur.lines:
                cur.lines[-1].no_newline = True
            continue
        if raw.startswith("+"):
            cur.lines.append(DiffLine("added", raw[1:], None, new, index=len(cur.lines)))
            new += 1
        elif raw.startswith("-"):
            cur.lines.append(DiffLine("removed", raw[1:], old, None, index=len(cur.lines)))
            old += 1
        elif raw.startswith(" ") or raw == "":
            cur.lines.append(DiffLine("context", raw[1:], old, new, index=len(cur.lines)))
            old += 1
            new += 1
        else:
            cur = None  # trailing text after the diff (signature, prose)
    for h in hunks:
        while h.lines and h.lines[-1].kind == "context" and h.lines[-1].text == "" and (
            _count(h, "pre") > h.old_count or _count(h, "post") > h.new_count
        ):
            h.lines.pop()  # blank separator lines, not context
        pre, post = _count(h, "pre"), _count(h, "post")
        if (pre, post) != (h.old_count, h.new_count):
            h.warnings.append(
                f"hunk {h.header.split(' @@')[0]} @@ counts -{h.old_count} +{h.new_count}, "
                f"but its body has -{pre} +{post} lines; line numbers follow the body"
            )
    return hunks


def _count(h: Hunk, side: str) -> int:
    if side == "pre":
        return sum(1 for ln in h.lines if ln.kind != "added")
    return sum(1 for ln in h.lines if ln.kind != "removed")


def _body_line_count(chunk: str) -> int:
    """Hunk body lines in a chunk (+, -, ' ' after the first @@), excluding trailing blanks."""
    lines = chunk.split("\n")
    n, seen = 0, False
    for raw in lines:
        if raw.startswith("@@"):
            seen = True
            continue
        if seen and raw[:1] in ("+", "-", " "):
            n += 1
    return n


def parse_diff(diff: str) -> tuple[list[FileDiff], list[str]]:
    """Parse a (git) unified diff into FileDiffs. Never raises; returns (files, warnings)."""
    files: list[FileDiff] = []
    warnings: list[str] = []
    for chunk in _file_chunks(diff):
        first = chunk.split("\n", 1)[0]
        old_path = new_path = None
        gm = _GIT_HEADER.match(first)
        if gm:
            old_path, new_path = gm.group(1), gm.group(2)
        fd = FileDiff(old_path, new_path)
        hunks: list[Hunk] | None = None
        try:
            ps = PatchSet(chunk)
            if len(ps) == 1:
                pf = ps[0]
                fd.old_path = _strip_prefix(pf.source_file) if pf.source_file else old_path
                fd.new_path = _strip_prefix(pf.target_file) if pf.target_file else new_path
                fd.is_binary = pf.is_binary_file
                hunks = _from_unidiff(pf)
                parsed = sum(len(h.lines) for h in hunks)
                if parsed != _body_line_count(chunk):
                    hunks = None  # counts lie: unidiff stopped early or dropped lines
        except (UnidiffParseError, ValueError, IndexError, TypeError, AttributeError):
            hunks = None
        if hunks is None:
            hunks = _lenient_hunks(chunk)
            if not any(h.warnings for h in hunks) and hunks:
                pass
        fd.hunks = hunks
        _extended_header(chunk, fd)
        if fd.old_path is None and fd.new_path is None:
            fd.old_path = fd.new_path = "(unknown)"
            fd.warnings.append("file header without a path")
        if fd.status == "modified":
            if fd.old_path is None:
                fd.status = "added"
            elif fd.new_path is None:
                fd.status = "deleted"
            elif fd.old_path != fd.new_path:
                fd.status = "renamed"
        for h in fd.hunks:
            fd.warnings.extend(f"{fd.path}: {w}" for w in h.warnings)
        warnings.extend(fd.warnings)
        files.append(fd)
    return files, warnings


_INBODY = re.compile(r"^(From|Date|Subject): ?(.*)$")


def take_inbody_headers(body: str) -> tuple[list[tuple[str, str]], str]:
    """In-body From:/Date:/Subject: at the top of a patch, folded lines unfolded.

    Ours because liblore's split_body_parts reads them with its trailer reader,
    which does not know header folding: a wrapped 'Subject: [PATCH] long title\n
    continued' is then taken for commit-message text.
    """
    lines = body.split("\n")
    headers: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        m = _INBODY.match(lines[i])
        if not m:
            break
        value = m.group(2)
        i += 1
        while i < len(lines) and lines[i][:1] in (" ", "\t") and lines[i].strip():
            value += " " + lines[i].strip()
            i += 1
        headers.append((m.group(1), value))
    if not headers or (i < len(lines) and lines[i].strip()):
        return [], body  # not a header block: leave the text alone
    return headers, "\n".join(lines[i:]).lstrip("\n")


# --- building Patch objects ---------------------------------------------------------


def build_patch(body: str, *, title: str, author: tuple[str, str]) -> Patch:
    """A Patch from a patch body (mail body, inline patch text, or format-patch text)."""
    lines = body.split("\n")
    if lines and _FORMAT_PATCH_FROM.match(lines[0]):
        body = "\n".join(lines[1:])
    inbody, body = take_inbody_headers(body)
    parts = split_patch_body(body)
    name, email_addr = author
    for hname, value in inbody + parts["githeaders"]:
        key = hname.lower()
        if key == "from":
            n, a = email.utils.parseaddr(lu.clean_header(value))
            if a:
                name, email_addr = n, a
        elif key == "subject":
            title = parse_patch_subject(value).title or title
    files, warnings = parse_diff(parts["diff"])
    patch = Patch(
        title=title, author_name=name, author_email=email_addr,
        commit_message=parts["message"], notes=parts["notes"], diff_text=parts["diff"],
        files=files, warnings=warnings,
    )
    patch._body_trailers = parts["trailers"]  # turned into Trailer objects by series.py
    return patch
