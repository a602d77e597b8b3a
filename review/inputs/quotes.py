"""Quoted replies -> review comments anchored to patch lines.

A reviewer answers a patch by quoting some of its lines ('> +foo', nested '>> ',
often with context elided as '[...]' or '...') and writing below them. This
module cuts a reply into (quoted block, own words) pairs and finds which hunk
lines each quoted block reproduces. liblore has nothing for this (it only strips
quoted lines, msg_get_payload(strip_quoted=True)); all of it is ours.

Matching: every patch line gets a key, its diff marker plus its text with trailing
white space removed ('+\tfoo();', ' ctx', '-old'). Quoted lines are matched in
order against the patch's lines; '+++ b/path' and '@@ -a,b +c,d @@' quoted along
the way narrow the search to that file and hunk. Lines too short to identify
('+}', blank context) only match right after the previous match. Quoted lines the
reviewer skipped, or an explicit elision marker, make the anchor inexact but keep
it; prose lines inside the quote are ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from review.inputs.series import replied_target
from review.model import Anchor, DiffLine, FileDiff, Hunk, Message, Patch, ReviewComment, Series

_QUOTE = re.compile(r"^((?:[ \t]?>)+)[ ]?")
_ELISION = re.compile(
    r"^\s*(\[\s*(?:\.\.\.|…|snip|snipped|trimmed|\.\.\. ?snip ?\.\.\.)\s*\]|\.{3,}|…|<snip>|"
    r"<\.\.\.>|\[\s*\.\.\.\s*[a-z ]*\]|-+\s*snip\s*-+|\(\.\.\.\))\s*$",
    re.I,
)
_ATTRIBUTION = re.compile(r"(wrote|writes|said|schrieb|a écrit)\s*:\s*$", re.I)
_FILE_HEADER = re.compile(r"^\+\+\+ (?:[ab]/)?(\S+)")
_GIT_HEADER = re.compile(r"^diff --git (?:a/)?\S+ (?:b/)?(\S+)")
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_MIN_KEY = 4  # characters of text (after the marker) a line needs to be found on its own


@dataclass
class _Entry:
    file: FileDiff
    hunk: Hunk
    line: DiffLine


@dataclass
class PatchIndex:
    """A patch's lines in diff order, with a key -> positions map."""

    patch: Patch
    entries: list[_Entry] = field(default_factory=list)
    positions: dict[str, list[int]] = field(default_factory=dict)
    # the same keys with white space collapsed: mail clients that turn tabs into
    # spaces (or re-wrap indentation) still quote the same line
    loose: dict[str, list[int]] = field(default_factory=dict)
    file_start: dict[str, int] = field(default_factory=dict)
    hunk_start: dict[tuple[int, int], list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, patch: Patch) -> PatchIndex:
        cached = getattr(patch, "_quote_index", None)
        if cached is not None:
            return cached
        idx = cls(patch)
        for f in patch.files:
            idx.file_start.setdefault(f.path, len(idx.entries))
            if f.old_path:
                idx.file_start.setdefault(f.old_path, len(idx.entries))
            for h in f.hunks:
                idx.hunk_start.setdefault((h.old_start, h.new_start), []).append(len(idx.entries))
                for ln in h.lines:
                    key = _key(ln)
                    idx.positions.setdefault(key, []).append(len(idx.entries))
                    idx.loose.setdefault(_loose(key), []).append(len(idx.entries))
                    idx.entries.append(_Entry(f, h, ln))
        patch._quote_index = idx  # type: ignore[attr-defined]
        return idx


def _key(ln: DiffLine) -> str:
    marker = {"added": "+", "removed": "-"}.get(ln.kind, " ")
    return (marker + ln.text).rstrip()


def _loose(key: str) -> str:
    return key[:1] + " ".join(key[1:].split())


def unquote(line: str) -> tuple[int, str]:
    """('>> +foo' -> (2, '+foo')). Depth 0 for the reviewer's own lines."""
    m = _QUOTE.match(line)
    if not m:
        return 0, line
    return m.group(1).count(">"), line[m.end():]


@dataclass
class _Cursor:
    """Where the previous quoted line matched, carried across a reply's quote blocks."""

    pos: int = -1
    file: str | None = None


@dataclass
class _Match:
    positions: list[int] = field(default_factory=list)
    exact: bool = True


def match_quote(lines: list[str], index: PatchIndex, cursor: _Cursor | None = None) -> _Match:
    """Match unquoted quote text (markers already removed) against a patch."""
    cur = cursor or _Cursor()
    out = _Match()
    gap = False
    in_diff = False  # after a quoted file/hunk header or a matched line
    for raw in lines:
        text = raw.rstrip()
        fm = _FILE_HEADER.match(text) or _GIT_HEADER.match(text)
        if fm:
            path = fm.group(1)
            if path in index.file_start:
                cur.file, cur.pos = path, index.file_start[path] - 1
                in_diff = True
            continue
        if text.startswith("--- ") or text.startswith("index "):
            continue
        hm = _HUNK.match(text)
        if hm:
            starts = index.hunk_start.get((int(hm.group(1)), int(hm.group(2))), [])
            within = [s for s in starts if cur.file is None or index.entries[s].file.path == cur.file]
            if within or starts:
                cur.pos = (within or starts)[0] - 1
                cur.file = index.entries[cur.pos + 1].file.path
            in_diff = True  # even a header of another version of the hunk starts a diff quote
            continue
        if _ELISION.match(text):
            gap = True
            if in_diff:
                out.exact = False  # the reviewer cut lines out of the quoted diff
            continue
        if text and text[0] not in "+- ":
            continue  # prose inside the quote
        candidates = index.positions.get(text) or index.loose.get(_loose(text), [])
        if not text and cur.pos >= 0:
            # a blank context line whose quoting lost its space
            candidates = index.positions.get("", [])
        pos = _choose(candidates, cur, index, strong=len(text.strip()) > _MIN_KEY,
                      after_gap=gap and bool(out.positions))
        if pos is None:
            if text.strip():
                gap = True  # a quoted diff line that is not in this patch
            continue
        if out.positions and pos != out.positions[-1] + 1:
            out.exact = False
        elif gap and out.positions:
            out.exact = False
        gap = False
        in_diff = True
        out.positions.append(pos)
        cur.pos = pos
        cur.file = index.entries[pos].file.path
    return out


def _choose(candidates: list[int], cur: _Cursor, index: PatchIndex, *, strong: bool,
            after_gap: bool = False) -> int | None:
    if not candidates:
        return None
    if not strong:
        # too short to identify: only right after the previous match (or a header),
        # or, across an elision, the next one in the same hunk
        nxt = cur.pos + 1
        if nxt in candidates:
            return nxt
        if after_gap and 0 <= cur.pos < len(index.entries):
            hunk = index.entries[cur.pos].hunk
            for p in candidates:
                if p > cur.pos and index.entries[p].hunk is hunk:
                    return p
        return None
    after = [p for p in candidates if p > cur.pos]
    if cur.file is not None:
        same_file = [p for p in after if index.entries[p].file.path == cur.file]
        if same_file:
            return same_file[0]
    if after:
        return after[0]
    return candidates[0]


def _anchor(match: _Match, index: PatchIndex) -> Anchor | None:
    """Anchor on the last matched line; the span starts at the first match in its hunk."""
    strong = [p for p in match.positions if len(index.entries[p].line.text.strip()) > 1]
    if not strong:
        return None
    last = index.entries[match.positions[-1]]
    in_hunk = [p for p in match.positions if index.entries[p].hunk is last.hunk]
    first = index.entries[in_hunk[0]]
    side = "pre" if last.line.kind == "removed" else "post"
    return Anchor(
        patch=index.patch, file=last.file, hunk=last.hunk, first=first.line, last=last.line,
        side=side, quoted_lines=len(in_hunk), exact=match.exact and len(in_hunk) == len(match.positions),
    )


def anchor_quote(quoted: list[str], patch: Patch) -> Anchor | None:
    """Where quoted lines (markers removed, as ReviewComment.quoted holds them) sit in
    `patch`, or None. The public form of what anchor_comments does per comment; e.g.
    to place a comment on an inline revision at the revised patch's own lines."""
    index = PatchIndex.of(patch)
    return _anchor(match_quote(quoted, index), index)


def split_reply(body: str) -> list[tuple[list[tuple[int, str]], str, int]]:
    """Cut a reply into (quoted block, own text, own text's 1-based body line).

    The quoted block is the run of quoted lines right before the own text (list
    of (depth, unquoted text)); an attribution line ("On ..., X wrote:") right
    before a quote is not own text. The signature ('-- ') is dropped.
    """
    lines = body.split("\n")
    if "-- " in lines:
        lines = lines[: len(lines) - 1 - lines[::-1].index("-- ")]
    out = []
    quoted: list[tuple[int, str]] = []
    own: list[str] = []
    own_start = 0

    def flush_own():
        nonlocal own
        while own and own[-1].strip() == "" :
            own.pop()
        text_lines = list(own)
        skipped = 0
        while text_lines and not text_lines[0].strip():
            text_lines.pop(0)
            skipped += 1
        text = "\n".join(text_lines).strip("\n")
        if text.strip():
            out.append((quoted, text, own_start + skipped))
        own = []

    for i, line in enumerate(lines):
        depth, text = unquote(line)
        if depth:
            if own:
                # attribution line(s) introduce the quote, they are not a comment
                while own and (not own[-1].strip() or _ATTRIBUTION.search(own[-1])):
                    own.pop()
                flush_own()
                quoted = []
            quoted.append((depth, text))
        else:
            if not own:
                own_start = i + 1
            own.append(line)
    if own:
        flush_own()
    return out


def candidate_patches(msg: Message) -> list[Patch]:
    """Patches a reply may quote, nearest first: those carried by the messages up
    its reply chain, then the patch its subject names (when the one it answers is
    absent), then what an inline patch revises."""
    out: list[Patch] = []
    node = msg.thread.parent if msg.thread else None
    while node is not None:
        if node.message is not None and node.message.patch is not None:
            out.append(node.message.patch)
        node = node.parent
    if msg.replied_patch is not None:
        out.append(msg.replied_patch)
    for p in list(out):
        if p.revises is not None:
            out.append(p.revises)
    seen, uniq = set(), []
    for p in out:
        if id(p) not in seen:
            seen.add(id(p))
            uniq.append(p)
    return uniq


def anchor_comments(msg: Message, patches: list[Patch] | None = None) -> list[ReviewComment]:
    """The review comments of one reply, each anchored where its quote matches."""
    if msg.patch is not None and not msg.patch.inline:
        return []
    cands = candidate_patches(msg) if patches is None else patches
    indexes = [PatchIndex.of(p) for p in cands]
    cursors = [_Cursor() for _ in indexes]
    comments = []
    for quoted, text, line_no in split_reply(msg.body):
        depth = min((d for d, _ in quoted), default=1)
        comment = ReviewComment(message=msg, text=text, quoted=[t for _, t in quoted],
                                quote_depth=depth, body_line=line_no)
        # Quoted lines of every depth are matched together: prose (the previous
        # reviewer's words at '> ') is skipped, code quoted at '>> ' still anchors, so
        # an answer to a review sits at the same line as the review. The nearest
        # candidate patch whose lines the quote reproduces wins.
        for idx, cur in zip(indexes, cursors):
            a = _anchor(match_quote([t for _, t in quoted], idx, cur), idx)
            if a is not None:
                comment.anchor = a
                break
        comments.append(comment)
    return comments


def anchor_all(messages: list[Message]) -> None:
    """Anchor every reply's comments; each lands on its anchor's patch, else on the
    patch the reply answers, else on the series whose cover letter it answers."""
    for m in messages:
        if not m.is_reply:
            continue
        m.comments = anchor_comments(m)
        target = None
        for c in m.comments:
            if c.anchor is not None:
                c.anchor.patch.comments.append(c)
            elif m.replied_patch is not None:
                m.replied_patch.comments.append(c)
            else:
                target = target or replied_target(m)
                if isinstance(target, Series):
                    target.comments.append(c)


def _prose_key(line: str) -> str:
    return " ".join(line.split())


def commit_message_line(comment: ReviewComment, patch: Patch) -> int | None:
    """The line of `patch.commit_message` (0-based) that `comment`'s quote ends on,
    when the reviewer answered the commit message rather than the diff; None when
    the quote is not of the commit message. The last quoted line long enough to
    identify decides; the line quoted before it settles a repeated one."""
    lines = [_prose_key(ln) for ln in patch.commit_message.split("\n")]
    quoted = [_prose_key(q) for q in comment.quoted]
    for k in range(len(quoted) - 1, -1, -1):
        if len(quoted[k]) < _MIN_KEY:
            continue
        hits = [i for i, ln in enumerate(lines) if ln == quoted[k]]
        if len(hits) > 1 and k > 0:
            hits = [i for i in hits if i > 0 and lines[i - 1] == quoted[k - 1]] or hits
        return min(hits[-1] + (len(quoted) - 1 - k), len(lines) - 1) if hits else None
    return None


def follow_quote(msg: Message, body_line: int) -> Anchor | None:
    """Where the quoted line at `body_line` (1-based) of `msg`'s body sits in the
    patch it quotes: the quote from the start of its block down to that line,
    anchored; `last` is that line. None on an unquoted line, or when the quote is
    not of a patch line of this input."""
    lines = msg.body.split("\n")
    if not 1 <= body_line <= len(lines) or not unquote(lines[body_line - 1])[0]:
        return None
    start = body_line - 1
    while start > 0 and unquote(lines[start - 1])[0]:
        start -= 1
    quoted = [unquote(ln)[1] for ln in lines[start:body_line]]
    for patch in candidate_patches(msg):
        anchor = anchor_quote(quoted, patch)
        if anchor is not None:
            return anchor
    return None
