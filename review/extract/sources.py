"""Where each file's pre-image comes from, and what the report says about it.

A patch from a mail shows hunks; the checker wants whole functions. A run reads
whole files from its `Base`: a git repository (`--repo`, any clone on any branch; by
default the kernel checkout the command runs in), a directory (`--tree`), or
nothing (the mail alone). For each file of each patch, best first:

  1. blob      with a repository: the blob the diff's `index abc..def` line names,
               resolved as `git am -3` resolves it; the exact pre-image;
  2. series    the file as the series' earlier patches left it (their post-images,
               built in memory: the repository is never written);
  3. base-commit  with a repository: the file at the `base-commit:` trailer of the
               cover letter (or of the patch), when the repository has that commit;
  4. tree / revision  the file in `--tree`, else at `--base REV` (default HEAD) of
               the repository;
  5. mail      none of these: the hunks alone.

Hunks are then located in it by their context, with offsets, as patch(1) does
(review/extract/apply.py); a hunk not found there is read from the mail. Each file
gets a `FileSource` that says which of these it came from and where its hunks
landed. Helper definitions (review/extract/definitions.py) come from the same place
as the fallback files: the repository at the base revision, or the tree.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from review.errors import InputError
from review.extract.apply import Placement
from review.extract.definitions import (
    GREP_PATTERNS, SEARCH, Definitions, NameIndex, Parses, directory_lines, read_file,
)
from review.inputs.base import base_commit
from review.inputs.repository import Repository
from review.model import FileDiff, Patch

NO_BASE = "no repository or tree"


@dataclass
class FileSource:
    """Which pre-image one file of one patch was read from, and where its hunks landed.

    origin   "git" (a revision range gives whole images), "blob", "series",
             "base-commit", "revision", "tree", "new" (the patch creates the file),
             "mail" (no whole file)
    where    the blob, revision:path or file it was read from
    short    the same in a word or two, for the one line a check gives all files
    placements  per hunk: where it landed, or None when its context was not found
    """
    path: str
    origin: str
    where: str = ""
    short: str = ""
    placements: list[Placement | None] = field(default_factory=list)
    why: str = ""           # "mail": why there is no whole file

    def describe(self) -> str:
        """One line: `pre-image of mm/memory.c: HEAD:mm/memory.c, hunks at +12 and +40`."""
        head = f"pre-image of {self.path}: "
        if self.origin == "mail":
            return head + f"the hunks of the mail ({self.why})" if self.why else head + "the hunks of the mail"
        return head + self.where + self._hunks()

    def brief(self) -> str:
        """A few words: `mm/swapfile.c HEAD +12`, `mm/rmap.c blob 1a2b3c4d5e6f, hunk 2
        of 2 from the mail`."""
        if self.origin == "mail":
            return f"{self.path} the mail"
        offsets = sorted({p.pre_offset for p in self.placements if p is not None})
        text = f"{self.path} {self.short}" + "".join(f" {o:+d}" for o in offsets if o)
        n = len(self.placements)
        missing = [str(i + 1) for i, p in enumerate(self.placements) if p is None]
        if missing:
            which = "hunk" if len(missing) == 1 else "hunks"
            text += f", {which} {_and(missing)} of {n} from the mail" if len(missing) < n else \
                ", its hunks from the mail"
        return text

    def _hunks(self) -> str:
        """Where the hunks landed: `, hunks at +12 and +40`, `, hunks in place, hunk 2 of
        3 not found: from the mail`."""
        n = len(self.placements)
        missing = [i + 1 for i, p in enumerate(self.placements) if p is None]
        offsets = [p.pre_offset for p in self.placements if p is not None]
        parts = []
        if offsets and not any(offsets):
            parts.append("hunks in place" if len(offsets) > 1 else "hunk in place")
        elif offsets:
            same = len(set(offsets)) == 1
            parts.append(("hunks at " if len(offsets) > 1 else "hunk at ")
                         + (f"{offsets[0]:+d}" if same else _and([f"{o:+d}" for o in offsets])))
        if n and len(missing) == n:
            parts.append("no hunk found: from the mail" if n > 1 else "hunk not found: from the mail")
        elif missing:
            which = "hunk" if len(missing) == 1 else "hunks"
            parts.append(f"{which} {_and([str(i) for i in missing])} of {n} not found: from the mail")
        return "".join(", " + p for p in parts)

    def to_json(self) -> dict:
        return {"file": self.path, "origin": self.origin, "where": self.where, "why": self.why,
                "hunks": [None if p is None else {"pre_offset": p.pre_offset, "post_offset": p.post_offset,
                                                  "pre_line": p.pre_start, "post_line": p.post_start}
                          for p in self.placements],
                "text": self.describe()}


def pre_images_line(sources: list[FileSource]) -> str:
    """All files of a patch in one line: `pre-images: mm/ksm.c blob 1a2b3c4d5e6f;
    mm/swapfile.c HEAD +12`."""
    return "pre-images: " + "; ".join(s.brief() for s in sources)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def blob_id(text: str) -> str:
    """git's id of a blob holding `text`."""
    data = text.encode("utf-8", "surrogateescape")
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class SeriesFiles:
    """The files as the series' earlier patches left them: path -> text, where each
    was first read from, and whether from a tree or a repository."""
    texts: dict[str, str] = field(default_factory=dict)
    first: dict[str, FileSource] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)   # "tree" | "repo"

    def advance(self, fd: FileDiff, post: str | None, source: FileSource, kind: str) -> None:
        """Record what a patch left of one file: its post-image (nothing once deleted)."""
        old = fd.old_path or ""
        where, kind = self.first.get(old, source), self.kinds.get(old, kind)
        if (fd.new_path is None or fd.status == "renamed") and old in self.texts:
            for d in (self.texts, self.first, self.kinds):
                d.pop(old)
        if fd.new_path is not None and post is not None:
            self.texts[fd.new_path] = post
            self.first[fd.new_path], self.kinds[fd.new_path] = where, kind


def whole_functions_hint(command: str) -> str:
    """What to run for whole functions, said once when a run has only the mail."""
    return (f"functions were read from the hunks alone: for whole functions run `{command}` in a "
            f"kernel checkout, or add --repo PATH (any kernel clone) or --tree PATH")


class Base:
    """What one run reads whole files from (see the module's docstring). `notes`
    collects what the report says once per run."""

    def __init__(self, repo: str | None = None, tree: str | None = None, rev: str | None = None):
        if tree is not None and not Path(tree).is_dir():
            raise InputError(f"--tree {tree}: not a directory")
        if rev is not None and repo is None:
            raise InputError(f"--base {rev}: needs a repository (--repo PATH)")
        self.tree = Path(tree) if tree is not None else None
        self.repo = Repository(repo) if repo is not None else None
        self.rev, self.commit = rev or "HEAD", None
        if self.repo is not None:
            self.commit = self.repo.commit(self.rev)
            if self.commit is None and rev is not None:
                self.repo.close()
                raise InputError(f"--base {rev}: not a commit of {repo}")
        self.explicit_rev = rev is not None
        self.parses = Parses()
        self.notes: list[str] = []
        self._definitions: dict[str, Definitions] = {}
        self._base_commits: dict[int, tuple[str, str] | None] = {}

    @property
    def whole(self) -> bool:
        """Are whole files to be had at all?"""
        return self.tree is not None or self.repo is not None

    def close(self) -> None:
        if self.repo is not None:
            self.repo.close()

    def __enter__(self) -> "Base":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- the revision
    def _revision(self, patch: Patch) -> tuple[str, str] | None:
        """(commit, label) the fallback files and helpers are read at, unless --base
        says otherwise: where a revision range starts; the series' base-commit when the
        repository has it; else --base / HEAD. None without a repository (or when HEAD
        is unborn)."""
        if self.repo is None:
            return None
        if not self.explicit_rev:
            first = patch.series.patches[0] if patch.series is not None and patch.series.patches else patch
            if patch.commit and first.parents:   # a revision range: where it starts
                return first.parents[0], first.parents[0][:12]
            found = self._base_commit(patch)
            if found is not None:
                return found
        return (self.commit, self.rev) if self.commit else None

    def _base_commit(self, patch: Patch) -> tuple[str, str] | None:
        series = patch.series
        key = id(series) if series is not None else id(patch)
        if key not in self._base_commits:
            trailer = base_commit(patch)
            found = None
            if trailer:
                full = self.repo.commit(trailer)
                if full:
                    found = (full, f"base-commit {trailer[:12]}")
                else:
                    note = f"base-commit {trailer[:12]}: not in {self.repo.path}; files read at {self.rev} instead"
                    if note not in self.notes:
                        self.notes.append(note)
            self._base_commits[key] = found
        return self._base_commits[key]

    # ---------------------------------------------------------------- helpers
    def definitions(self, patch: Patch | None) -> Definitions:
        """Helper definitions where this patch's fallback files come from: the tree,
        or the repository at the series' base revision."""
        revision = None
        if self.tree is None and self.repo is not None:
            revision = self._revision(patch) if patch is not None else \
                ((self.commit, self.rev) if self.commit else None)
        key = "tree" if self.tree is not None else (revision[0] if revision else "")
        if key not in self._definitions:
            self._definitions[key] = Definitions(self._index(revision), self.parses)
        return self._definitions[key]

    def _index(self, revision: tuple[str, str] | None) -> NameIndex | None:
        if self.tree is not None:
            root = self.tree
            return NameIndex(lambda: directory_lines(root), lambda rel: read_file(root, rel))
        if revision is None:
            return None
        repo, commit = self.repo, revision[0]
        return NameIndex(lambda: repo.grep(commit, GREP_PATTERNS, [f":(glob){g}" for g in SEARCH]),
                         lambda rel: repo.file(commit, rel))

    # ---------------------------------------------------------------- pre-images
    def pre_image(self, fd: FileDiff, patch: Patch, series: SeriesFiles) -> tuple[str | None, FileSource]:
        """The pre-image of one file of `patch`, best source first, and its FileSource
        (whose placements the caller fills in)."""
        path = fd.path
        if fd.status == "added" or fd.old_path is None:
            return "", FileSource(path, "new", "a new file", "new file")
        old = fd.old_path
        if self.repo is not None and fd.old_blob:
            text = self.repo.blob(fd.old_blob)
            if text is not None:
                return text, FileSource(path, "blob", f"blob {fd.old_blob} (index line)", f"blob {fd.old_blob}")
        if old in series.texts:
            text = series.texts[old]
            exact = " (its blob matches the index line)" if fd.old_blob and blob_id(text).startswith(fd.old_blob) else ""
            first = series.first[old]
            return text, FileSource(path, "series", f"{first.where} with the series' earlier patches{exact}",
                                    f"{first.short} + series")
        revision = self._revision(patch)
        if revision is not None and revision[1].startswith("base-commit"):
            text = self.repo.file(revision[0], old)
            if text is not None:
                return text, FileSource(path, "base-commit", f"{revision[1]}:{old}", revision[1])
        if self.tree is not None:
            text = read_file(self.tree, old)
            if text is not None:
                return text, FileSource(path, "tree", f"the tree's {old}", "tree")
            return None, FileSource(path, "mail", why=f"{old} is not in the tree")
        if revision is not None:
            text = self.repo.file(revision[0], old)
            if text is not None:
                return text, FileSource(path, "revision", f"{revision[1]}:{old}", revision[1])
            return None, FileSource(path, "mail", why=f"{old} is not at {revision[1]}")
        return None, FileSource(path, "mail", why=NO_BASE if not self.whole else "no revision to read")
