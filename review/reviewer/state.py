"""A reviewer's own work on a thread: marks, line comments, trailers, notes, replies.

Nothing the reviewer typed may be lost, so the state is written to disk on every
change (atomically, review/reviewer/files.py) and read back when the same input is opened again. A draft file that
cannot be read is moved aside (never overwritten) and the review starts empty with a
warning naming both files.

The state is keyed by what does not change between runs: the input as given
(an absolute path, a message-id or a repository + range), and within it each patch by
its Message-ID (mail) or commit id (git), each comment by file, side and line plus
the text of that line (so a comment can be found again if the input moved lines).

Export (review/reviewer/export.py) turns this state into a reply mbox and b4 external
comments (review/reviewer/b4_review.py); the TUI and any future CLI command use the
same functions.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from review.model import DiffLine, FileDiff, Hunk, Patch, patch_key
from review.reviewer import identity as ident
from review.reviewer.files import atomic_write

FORMAT_VERSION = 1
Mark = Literal["reviewed", "skipped", ""]
APPROVAL_TRAILERS = ("Reviewed-by", "Acked-by", "Tested-by", "Nacked-by")


def state_dir() -> Path:
    """Where drafts live: $MMREVIEW_STATE_DIR, else $XDG_STATE_HOME/mmreview/drafts."""
    env = os.environ.get("MMREVIEW_STATE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return Path(base) / "mmreview" / "drafts"


def input_key(source: str, repo: str | None = None) -> str:
    """A stable key for one input: the same file, msgid or range gives the same key."""
    if repo:
        ident = f"git:{Path(repo).resolve()}:{source}"
    elif source not in ("-",) and Path(source).exists():
        ident = f"path:{Path(source).resolve()}"
    else:
        ident = f"id:{source.strip().strip('<>')}"
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


@dataclass
class LineComment:
    """The reviewer's comment after one diff line."""
    file: str
    side: Literal["pre", "post"]
    line: int
    text: str
    line_text: str = ""   # the diff line's text, to find it again
    hunk: int = 0         # index of the hunk within its file
    updated: float = 0.0


@dataclass
class PatchReview:
    mark: Mark = ""
    trailers: list[str] = field(default_factory=list)   # "Reviewed-by: Name <mail>"
    note: str = ""                                      # a general remark, above the quotes
    comments: list[LineComment] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.mark or self.trailers or self.note.strip()
                    or any(c.text.strip() for c in self.comments))

    @property
    def has_reply(self) -> bool:
        """Something worth sending: a note, a comment or a trailer."""
        return bool(self.trailers or self.note.strip() or any(c.text.strip() for c in self.comments))


def _line_side(line: DiffLine) -> tuple[Literal["pre", "post"], int]:
    if line.kind == "removed":
        return "pre", int(line.old_lineno or 0)
    return "post", int(line.new_lineno or 0)


class ReviewState:
    """The reviewer's drafts for one input, saved atomically on every change."""

    def __init__(self, path: Path, source: str = "", identity: str = ""):
        self.path = Path(path)
        self.source = source
        self.identity = identity
        self.patches: dict[str, PatchReview] = {}
        self.series_notes: dict[str, str] = {}           # cover msgid -> note
        self.series_trailers: dict[str, list[str]] = {}  # cover msgid -> trailers
        self.replies: dict[str, str] = {}                # msgid -> a free-text reply to it
        self.warnings: list[str] = []
        self.saves = 0

    # ------------------------------------------------------------ open / save
    @classmethod
    def open(cls, source: str, repo: str | None = None, directory: Path | None = None,
             identity: str = "") -> "ReviewState":
        directory = Path(directory) if directory is not None else state_dir()
        path = directory / f"{input_key(source, repo)}.json"
        state = cls(path, source=source, identity=identity)
        state._load()
        return state

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
                raise ValueError("unknown draft format")
            for key, p in (data.get("patches") or {}).items():
                comments = [LineComment(**c) for c in p.get("comments", [])]
                self.patches[key] = PatchReview(
                    mark=p.get("mark", ""), trailers=list(p.get("trailers", [])),
                    note=p.get("note", ""), comments=comments)
            self.series_notes = dict(data.get("series_notes") or {})
            self.series_trailers = {k: list(v) for k, v in (data.get("series_trailers") or {}).items()}
            self.replies = {k: str(v) for k, v in (data.get("replies") or {}).items()}
            stored = data.get("identity", "")
            if not self.identity and ident.usable(stored):
                self.identity = stored
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            aside = self.path.with_name(f"{self.path.stem}.unreadable-{int(time.time())}.json")
            os.replace(self.path, aside)
            self.patches.clear()
            self.warnings.append(f"{self.path}: draft unreadable ({exc}); kept as {aside.name}")

    def to_json(self) -> dict:
        return {
            "version": FORMAT_VERSION,
            "source": self.source,
            "identity": self.identity,
            "patches": {k: asdict(v) for k, v in self.patches.items() if not v.empty},
            "series_notes": {k: v for k, v in self.series_notes.items() if v.strip()},
            "series_trailers": {k: v for k, v in self.series_trailers.items() if v},
            "replies": {k: v for k, v in self.replies.items() if v.strip()},
        }

    def save(self) -> None:
        """Atomic replace: readers see the old file or the new one, never half of one."""
        atomic_write(self.path, json.dumps(self.to_json(), indent=1, ensure_ascii=False, sort_keys=True))
        self.saves += 1

    # ------------------------------------------------------------ queries
    def review(self, patch: Patch) -> PatchReview:
        return self.patches.get(patch_key(patch)) or PatchReview()

    def _edit(self, patch: Patch) -> PatchReview:
        return self.patches.setdefault(patch_key(patch), PatchReview())

    def comment_at(self, patch: Patch, file: FileDiff, line: DiffLine) -> LineComment | None:
        side, number = _line_side(line)
        for c in self.review(patch).comments:
            if c.file == file.path and c.side == side and c.line == number:
                return c
        return None

    def locate(self, patch: Patch, comment: LineComment) -> tuple[FileDiff, Hunk, DiffLine] | None:
        """The diff line a saved comment belongs to, by number and then by text."""
        f = patch.file(comment.file)
        if f is None:
            return None
        fallback = None
        for h in f.hunks:
            for ln in h.lines:
                side, number = _line_side(ln)
                if side == comment.side and number == comment.line:
                    if not comment.line_text or ln.text == comment.line_text:
                        return f, h, ln
                    fallback = fallback or (f, h, ln)
        if fallback is None and comment.line_text:
            for h in f.hunks:
                for ln in h.lines:
                    if ln.text == comment.line_text and _line_side(ln)[0] == comment.side:
                        return f, h, ln
        return fallback

    # ------------------------------------------------------------ changes (each saves)
    def set_mark(self, patch: Patch, mark: Mark) -> None:
        self._edit(patch).mark = mark
        self.save()

    def toggle_mark(self, patch: Patch, mark: Mark) -> Mark:
        new: Mark = "" if self.review(patch).mark == mark else mark
        self.set_mark(patch, new)
        return new

    def set_comment(self, patch: Patch, file: FileDiff, hunk: Hunk, line: DiffLine, text: str) -> None:
        """Create, change or (with empty text) drop the comment after `line`."""
        review = self._edit(patch)
        side, number = _line_side(line)
        existing = self.comment_at(patch, file, line)
        if existing is None:
            if not text.strip():
                return
            review.comments.append(LineComment(file.path, side, number, text, line.text, hunk.index,
                                               time.time()))
        elif text.strip():
            existing.text, existing.updated = text, time.time()
        else:
            review.comments.remove(existing)
        self.save()

    def set_note(self, patch: Patch, text: str) -> None:
        self._edit(patch).note = text
        self.save()

    def set_series_note(self, cover_msgid: str, text: str) -> None:
        self.series_notes[cover_msgid] = text
        self.save()

    def set_reply(self, msgid: str, text: str) -> None:
        """The reviewer's free-text reply to one message (any message but a patch,
        whose reply is its note and comments)."""
        self.replies[msgid] = text
        self.save()

    def add_trailer(self, patch: Patch, name: str, who: str) -> str:
        if name not in APPROVAL_TRAILERS:
            raise ValueError(f"unknown trailer {name!r}")
        trailer = f"{name}: {who}"
        review = self._edit(patch)
        if trailer not in review.trailers:
            review.trailers.append(trailer)
        self.save()
        return trailer

    def counts(self, patches: list[Patch]) -> dict[str, int]:
        marks = [self.review(p).mark for p in patches]
        return {"reviewed": marks.count("reviewed"), "skipped": marks.count("skipped"),
                "commented": sum(1 for p in patches if self.review(p).comments)}
