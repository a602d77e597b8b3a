"""The review model: what every stage after input reading sees.

review.inputs.load.load() turns one INPUT (mbox, maildir, .eml/.patch, stdin, lore
message-id/URL, or a git range with --repo) into a `Collection`:

    load(source, *, repo=None, stdin=None, lore_base=None, cache_dir=None) -> Collection

      source     str: a path (mbox/maildir/.eml/.patch), "-" for stdin, a lore
                 message-id (with or without <>) or a lore URL, or, with `repo`,
                 a revision range ("A..B", "-N", "HEAD~3..", one commit).
      repo       path of a git repository (bare or not); makes `source` a range.
      stdin      a binary stream for "-" (default sys.stdin.buffer).
      lore_base  lore base URL (default $MMREVIEW_LORE or https://lore.kernel.org/all);
                 like b4's midmask, the thread is fetched from <base>/<msgid>/t.mbox.gz.
      cache_dir  where fetched threads are cached (default $XDG_CACHE_HOME/mmreview).
      raises     review.errors.InputError (one line naming the input) for input that
                 cannot be read at all; damage confined to one message becomes a
                 warning on that message (Message.warnings) and the rest loads.

Object graph (all plain dataclasses, identity equality, back references allowed):

    Collection
      .messages   [Message]        every message read, duplicates dropped, input order
      .threads    [ThreadNode]     roots of the reply tree (placeholders for absent ones)
      .series     [Series]         each posted version of each series; versions linked
      .patches    [Patch]          every patch: in series order, then stand-alone/inline
    Message .patch -> Patch | None, .comments [ReviewComment], .trailers [Trailer]
    Series  .cover -> Message | None, .patches [Patch] by counter, .previous/.next,
            .trailers / .comments from replies to the cover letter
    Patch   .files [FileDiff] -> .hunks [Hunk] -> .lines [DiffLine]
            .trailers [Trailer] (its own and those offered in replies, with source)
            .comments [ReviewComment] (reply text anchored to hunk lines)

Line numbers are 1-based file line numbers: `old_lineno` in the pre-image
(source, "a/"), `new_lineno` in the post-image (target, "b/"). A removed line has
only old_lineno, an added line only new_lineno, a context line both.

Stability: later stages (extract, check, TUI) depend on these names. Changes are
additive only: new fields get defaults, nothing is renamed or removed.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, field
from typing import Iterator, Literal

LineKind = Literal["context", "added", "removed"]
Side = Literal["pre", "post"]


@dataclass(eq=False, repr=False)
class SubjectInfo:
    """What the [PATCH ...] brackets of a subject say (from liblore's parse_patch_subject)."""

    title: str  # subject without Re:/brackets
    is_patch: bool = False
    is_reply: bool = False
    version: int = 1
    version_stated: bool = False  # False: v1 assumed because no vN was given
    counter: int = 1
    expected: int = 1
    counter_stated: bool = False  # False: no n/m in the subject
    prefixes: tuple[str, ...] = ()  # RFC, RESEND, net-next, ... in order

    @property
    def is_cover(self) -> bool:
        return self.is_patch and self.counter_stated and self.counter == 0

    @property
    def is_rfc(self) -> bool:
        return any(p.upper() == "RFC" for p in self.prefixes)

    @property
    def is_resend(self) -> bool:
        return any(p.upper() == "RESEND" for p in self.prefixes)

    def __repr__(self) -> str:
        return f"SubjectInfo(v{self.version} {self.counter}/{self.expected} {self.title!r})"


@dataclass(eq=False, repr=False)
class Message:
    """One mail (or one git commit presented as a mail-less patch: then there is no Message)."""

    msgid: str  # without <>; synthesised "<source>#<n>@mmreview.invalid" if absent
    subject: str  # decoded, whitespace-normalised
    author_name: str
    author_email: str
    date: _dt.datetime | None
    body: str  # decoded text/plain body (the whole of it, signature included)
    in_reply_to: str | None = None  # first msgid of In-Reply-To
    references: list[str] = field(default_factory=list)  # References, oldest first
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject_info: SubjectInfo | None = None
    source: str = ""  # where it was read: "path.mbox#3", "maildir/cur/x", "lore:<id>"
    index: int = 0  # position in the input, 0-based
    warnings: list[str] = field(default_factory=list)  # damage confined to this message
    raw: bytes = b""  # the message as read (line ends LF), for showing it as sent
    # Filled in by threading / series building / quote anchoring:
    parent: Message | None = None  # the message it answers, when present in the input
    thread: ThreadNode | None = None
    patch: Patch | None = None  # the patch this message carries (also inline ones)
    trailers: list[Trailer] = field(default_factory=list)  # trailers this message offers
    comments: list[ReviewComment] = field(default_factory=list)  # its review comments
    replied_patch: Patch | None = None  # nearest patch up the reply chain, if any

    @property
    def author(self) -> str:
        return f"{self.author_name} <{self.author_email}>" if self.author_name else self.author_email

    @property
    def is_reply(self) -> bool:
        return bool(self.in_reply_to) or bool(self.subject_info and self.subject_info.is_reply)

    def __repr__(self) -> str:
        return f"Message(<{self.msgid}> {self.subject[:60]!r})"


@dataclass(eq=False, repr=False)
class ThreadNode:
    """A node of the reply tree. `message` is None for an absent message (a placeholder
    for an msgid that others answer or reference but that the input lacks)."""

    msgid: str
    message: Message | None = None
    parent: ThreadNode | None = None
    children: list[ThreadNode] = field(default_factory=list)  # by date, then input order
    by_subject: bool = False  # attached by the subject fallback, not by headers

    @property
    def missing(self) -> bool:
        return self.message is None

    @property
    def depth(self) -> int:
        d, node = 0, self.parent
        while node is not None:
            d, node = d + 1, node.parent
        return d

    def walk(self) -> Iterator[ThreadNode]:
        """Depth-first, pre-order: the order of lore's nested thread overview."""
        yield self
        for child in self.children:
            yield from child.walk()

    def __repr__(self) -> str:
        return f"ThreadNode(<{self.msgid}>{' missing' if self.message is None else ''}, {len(self.children)} children)"


@dataclass(eq=False, repr=False)
class DiffLine:
    kind: LineKind
    text: str  # without the leading ' ', '+' or '-'
    old_lineno: int | None  # pre-image line number (context, removed)
    new_lineno: int | None  # post-image line number (context, added)
    index: int = 0  # position within the hunk's lines
    no_newline: bool = False  # followed by "\ No newline at end of file"

    def __repr__(self) -> str:
        return f"DiffLine({self.kind} -{self.old_lineno} +{self.new_lineno} {self.text[:50]!r})"


@dataclass(eq=False, repr=False)
class Hunk:
    """One @@ hunk. pre_lines/post_lines map file line number -> text."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    section: str = ""  # text after the closing @@ (usually the enclosing function)
    lines: list[DiffLine] = field(default_factory=list)
    index: int = 0  # position within its FileDiff
    warnings: list[str] = field(default_factory=list)  # e.g. "line counts say 7, hunk has 5"

    @property
    def header(self) -> str:
        tail = f" {self.section}" if self.section else ""
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@{tail}"

    @property
    def pre_lines(self) -> dict[int, str]:
        return {ln.old_lineno: ln.text for ln in self.lines if ln.old_lineno is not None}

    @property
    def post_lines(self) -> dict[int, str]:
        return {ln.new_lineno: ln.text for ln in self.lines if ln.new_lineno is not None}

    @property
    def added(self) -> list[DiffLine]:
        return [ln for ln in self.lines if ln.kind == "added"]

    @property
    def removed(self) -> list[DiffLine]:
        return [ln for ln in self.lines if ln.kind == "removed"]

    def __repr__(self) -> str:
        return f"Hunk({self.header[:70]!r}, {len(self.lines)} lines)"


@dataclass(eq=False, repr=False)
class FileDiff:
    old_path: str | None  # None for a new file
    new_path: str | None  # None for a deleted file
    status: Literal["modified", "added", "deleted", "renamed", "copied"] = "modified"
    is_binary: bool = False
    similarity: int | None = None  # rename/copy similarity index, percent
    old_mode: str | None = None
    new_mode: str | None = None
    # The abbreviated blob ids of git's `index <old>..<new>` line (None without one;
    # all zeros for a side the file does not exist on).
    old_blob: str | None = None
    new_blob: str | None = None
    hunks: list[Hunk] = field(default_factory=list)
    # Whole-file text before/after the patch; only from git (None from mail).
    pre_image: str | None = None
    post_image: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The name a reviewer knows the file by: the new name, or the old for a deletion."""
        return self.new_path or self.old_path or ""

    @property
    def added_count(self) -> int:
        return sum(len(h.added) for h in self.hunks)

    @property
    def removed_count(self) -> int:
        return sum(len(h.removed) for h in self.hunks)

    def __repr__(self) -> str:
        return f"FileDiff({self.status} {self.path!r}, {len(self.hunks)} hunks)"


@dataclass(eq=False, repr=False)
class Trailer:
    """A `Name: value` trailer, with the message that offered it."""

    name: str  # as written (Reviewed-by, Acked-by, Fixes, Link, Cc, Change-Id, ...)
    value: str
    kind: Literal["person", "utility", "unknown"] = "unknown"  # liblore's classification
    person_name: str | None = None
    person_email: str | None = None
    message: Message | None = None  # where it was written (None for a git commit)
    from_reply: bool = False  # offered in a reply rather than written in the patch
    applies_to: Literal["patch", "series"] = "patch"  # a reply to a cover letter: series

    @property
    def key(self) -> str:
        return self.name.lower()

    def __repr__(self) -> str:
        return f"Trailer({self.name}: {self.value!r})"


@dataclass(eq=False, repr=False)
class Anchor:
    """Where a quoted passage sits in a patch: one file, one hunk, a span of its lines."""

    patch: Patch
    file: FileDiff
    hunk: Hunk
    first: DiffLine  # first hunk line quoted
    last: DiffLine  # last hunk line quoted (the comment follows this one)
    side: Side  # "post" if the quoted span ends on an added/context line, else "pre"
    quoted_lines: int = 0  # how many quoted lines matched hunk lines
    exact: bool = True  # False when elided context ([...], ...) was bridged

    @property
    def line(self) -> int:
        """The file line the comment answers, on `side`."""
        ln = self.last.new_lineno if self.side == "post" else self.last.old_lineno
        return int(ln or 0)

    @property
    def path(self) -> str:
        return self.file.path

    def __repr__(self) -> str:
        return f"Anchor({self.path}:{self.line} {self.side} in {self.hunk.header[:40]!r})"


@dataclass(eq=False, repr=False)
class ReviewComment:
    """A reviewer's own words in a reply, after the quoted passage they answer."""

    message: Message
    text: str  # the reviewer's unquoted lines (stripped of blank margins)
    quoted: list[str] = field(default_factory=list)  # the quoted lines it follows, markers removed
    quote_depth: int = 1  # 1 for "> ", 2 for ">> ", ...
    anchor: Anchor | None = None  # None: a general remark (or quoted prose, not diff)
    body_line: int = 0  # 1-based line of `text` in the reply body

    @property
    def author(self) -> str:
        return self.message.author

    @property
    def author_email(self) -> str:
        return self.message.author_email

    def __repr__(self) -> str:
        return f"ReviewComment(<{self.message.msgid}> {self.text[:40]!r} @ {self.anchor!r})"


@dataclass(eq=False, repr=False)
class Patch:
    """A patch: from a mail ([PATCH n/m], stand-alone, or inline in a reply) or a commit."""

    title: str  # subject without prefixes, or the commit summary
    author_name: str
    author_email: str
    commit_message: str  # body above '---' without trailers (git: body without trailers)
    notes: str = ""  # between '---' and the diff (diffstat, changelog)
    diff_text: str = ""
    files: list[FileDiff] = field(default_factory=list)
    trailers: list[Trailer] = field(default_factory=list)  # own first, then replies', in date order
    comments: list[ReviewComment] = field(default_factory=list)
    message: Message | None = None  # the mail that carries it (None for git)
    counter: int = 1
    expected: int = 1
    version: int = 1
    series: Series | None = None
    inline: bool = False  # carried inside a reply (e.g. a proposed replacement)
    revises: Patch | None = None  # an inline patch in a reply revises the patch it answers
    commit: str | None = None  # git: full commit id
    parents: list[str] = field(default_factory=list)  # git: parent commit ids
    date: _dt.datetime | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def author(self) -> str:
        return f"{self.author_name} <{self.author_email}>" if self.author_name else self.author_email

    @property
    def label(self) -> str:
        """How a reviewer names it: "v1 10/15", "inline 10/15", a short commit, or the title."""
        if self.commit:
            return self.commit[:12]
        if self.inline:
            return f"inline {self.revises.label}" if self.revises else "inline"
        if self.expected > 1 or self.series is not None and len(self.series.patches) > 1:
            return f"v{self.version} {self.counter:0{len(str(self.expected))}d}/{self.expected}"
        return f"v{self.version}"

    def file(self, path: str) -> FileDiff | None:
        for f in self.files:
            if path in (f.new_path, f.old_path):
                return f
        return None

    def __repr__(self) -> str:
        return f"Patch({self.label} {self.title[:60]!r})"


# Two keys of a patch, for two questions.

def patch_key(patch: Patch) -> str:
    """Which patch of its input it is, the same in every run: its Message-ID (mail),
    else its commit id (git), else its title. Keys the reviewer's drafts and the
    TUI's per-patch state."""
    if patch.message is not None:
        return patch.message.msgid
    if patch.commit:
        return patch.commit
    return f"title:{patch.title}"


def diff_digest(patch: Patch) -> str:
    """What the patch changes, as a short digest of its diff (of its title when it has
    none): names the rule sets a check builds from it (`current+post@<digest>`), so
    that example-database entries and replay traces belong to that change, whichever
    input carried it."""
    text = getattr(patch, "diff_text", "") or getattr(patch, "title", "")
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:10]


@dataclass(eq=False, repr=False)
class Series:
    """One posted version of a series: cover letter (if any) and patches in counter order."""

    title: str  # the cover letter's title, else the first patch's
    version: int
    expected: int  # the m of n/m
    author_name: str
    author_email: str
    cover: Message | None = None
    patches: list[Patch] = field(default_factory=list)  # ascending counter
    missing: list[int] = field(default_factory=list)  # counters 1..m absent from the input
    prefixes: tuple[str, ...] = ()
    change_id: str | None = None  # from a change-id: trailer (b4), linking versions
    previous: Series | None = None  # the earlier version in this input
    next: Series | None = None  # the later version in this input
    linked_by: Literal["change-id", "subject", None] = None  # how `previous` was found
    trailers: list[Trailer] = field(default_factory=list)  # offered on the cover (whole series)
    date: _dt.datetime | None = None
    comments: list[ReviewComment] = field(default_factory=list)  # replies to the cover letter

    @property
    def author(self) -> str:
        return f"{self.author_name} <{self.author_email}>" if self.author_name else self.author_email

    @property
    def is_rfc(self) -> bool:
        return any(p.upper() == "RFC" for p in self.prefixes)

    def __repr__(self) -> str:
        return f"Series(v{self.version} {self.title[:60]!r}, {len(self.patches)}/{self.expected})"


@dataclass(eq=False, repr=False)
class Collection:
    """Everything one INPUT held."""

    source: str  # the INPUT as the user gave it
    kind: Literal["mail", "git"] = "mail"
    messages: list[Message] = field(default_factory=list)
    threads: list[ThreadNode] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the input as a whole
    notes: list[str] = field(default_factory=list)  # e.g. "merge abc123 skipped"
    duplicates_dropped: int = 0

    def message(self, msgid: str) -> Message | None:
        """The message with this Message-Id (with or without <>), or None."""
        msgid = msgid.strip().strip("<>")
        index = getattr(self, "_by_msgid", None)
        if index is None or len(index) != len(self.messages):
            index = {m.msgid: m for m in self.messages}
            self._by_msgid = index
        return index.get(msgid)

    @property
    def comments(self) -> list[ReviewComment]:
        return [c for m in self.messages for c in m.comments]

    def comments_by(self, who: str) -> list[ReviewComment]:
        """Comments whose author's email or name contains `who` (case-insensitive)."""
        w = who.lower()
        return [c for c in self.comments if w in c.message.author.lower()]

    def __repr__(self) -> str:
        return f"Collection({self.source!r}, {len(self.messages)} messages, {len(self.patches)} patches)"
