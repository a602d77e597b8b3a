"""A local git repository's objects, read and never written.

What the extraction needs from any kernel clone, whatever branch it is on:

    Repository(path)                     InputError when `path` is not a git repository
    .commit(rev)  -> full id | None      a revision that names a commit
    .blob(name)   -> text | None         a blob by (abbreviated) id, as `git am -3` resolves
                                         the ids of a diff's `index` lines
    .file(commit, path) -> text | None   a file at a commit
    .grep(commit, patterns, pathspecs)   (path, line) of the matching lines at a commit

    kernel_checkout(dir) -> Path | None  the kernel work tree a command runs in, if any

One `git cat-file --batch` process serves every read; `git grep` runs at a commit, so
neither the work tree nor the index is read or refreshed (GIT_OPTIONAL_LOCKS=0), and
nothing is ever written: no checkout, no ref, no index, no object.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from review.errors import InputError

_MAX_BYTES = 8 * 1024 * 1024   # larger blobs are not kept as whole images
_HEX = re.compile(r"^[0-9a-f]{4,40}$")
_VERSION_LINE = re.compile(r"^(VERSION|PATCHLEVEL)\s*=\s*\d+\s*$", re.M)
_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_PAGER": "cat"}


class Repository:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_dir():
            raise InputError(f"--repo {path}: no such directory")
        self._env = dict(os.environ, **_ENV)
        try:
            top = self._git("rev-parse", "--absolute-git-dir")
        except (subprocess.CalledProcessError, OSError):
            raise InputError(f"--repo {path}: not a git repository") from None
        self.git_dir = top.strip()
        self._batch: subprocess.Popen | None = None

    # ------------------------------------------------------------------ plumbing
    def _git(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(["git", "-C", str(self.path), *args], env=self._env, check=check,
                             capture_output=True)
        return out.stdout.decode("utf-8", "surrogateescape")

    def _cat(self, name: str) -> tuple[str, bytes | None]:
        """(type, content) of an object name, or ("missing" | "ambiguous", None)."""
        if "\n" in name:
            return "missing", None
        if self._batch is None or self._batch.poll() is not None:
            self._batch = subprocess.Popen(["git", "-C", str(self.path), "cat-file", "--batch"],
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL, env=self._env)
        self._batch.stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
        self._batch.stdin.flush()
        head = self._batch.stdout.readline().decode("utf-8", "replace").split()
        if len(head) != 3:   # "<name> missing" / "<name> ambiguous"
            return (head[-1] if head else "missing"), None
        size = int(head[2])
        data = self._batch.stdout.read(size + 1)[:size]
        return head[1], data

    def close(self) -> None:
        if self._batch is not None:
            try:
                self._batch.stdin.close()
                self._batch.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self._batch.kill()
            self._batch = None

    def __enter__(self) -> "Repository":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ reads
    def commit(self, rev: str) -> str | None:
        """The full id of the commit `rev` names, or None."""
        if not rev or rev.startswith("-") or "\n" in rev:
            return None
        out = self._git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}",
                        check=False).strip()
        return out or None

    def blob(self, abbrev: str) -> str | None:
        """The text of the blob an (abbreviated) id names. An abbreviation that several
        objects share names the one blob among them, as `git am -3` reads an `index`
        line (git resolves it with a blob in mind); None when there is none or several."""
        name = abbrev.lower()
        if not _HEX.match(name) or not name.strip("0"):
            return None
        kind, data = self._cat(name)
        if kind == "ambiguous":
            full = self._git("rev-parse", f"--disambiguate={name}", check=False).split()
            blobs = [f for f in full if self._cat(f)[0] == "blob"]
            kind, data = self._cat(blobs[0]) if len(blobs) == 1 else ("ambiguous", None)
        return _text(data) if kind == "blob" else None

    def file(self, commit: str, path: str) -> str | None:
        """The text of `path` at `commit` (a full id), or None."""
        kind, data = self._cat(f"{commit}:{path}")
        return _text(data) if kind == "blob" else None

    def grep(self, commit: str, patterns: list[str], pathspecs: list[str]) -> list[tuple[str, str]]:
        """(path, line) of every line of the files under `pathspecs` at `commit` that
        matches one of the extended regular expressions `patterns`."""
        args = ["grep", "-z", "-I", "--full-name", "--no-color", "-E"]
        for p in patterns:
            args += ["-e", p]
        raw = subprocess.run(["git", "-C", str(self.path), *args, commit, "--", *pathspecs],
                             env=self._env, capture_output=True).stdout
        out = []
        prefix = f"{commit}:"
        for line in raw.decode("utf-8", "surrogateescape").split("\n"):
            name, sep, text = line.partition("\0")
            if sep:
                out.append((name[len(prefix):] if name.startswith(prefix) else name, text))
        return out


def _text(data: bytes | None) -> str | None:
    if data is None or len(data) > _MAX_BYTES or b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", "surrogateescape")


def kernel_checkout(start: Path) -> Path | None:
    """The top of the git work tree holding `start`, when it is a kernel checkout: a
    Makefile with VERSION and PATCHLEVEL lines, and an mm/ directory."""
    for d in (start, *start.parents):
        if (d / ".git").exists():
            try:
                makefile = (d / "Makefile").read_text("utf-8", "replace")[:4096]
            except OSError:
                return None
            kinds = {m.group(1) for m in _VERSION_LINE.finditer(makefile)}
            return d if kinds == {"VERSION", "PATCHLEVEL"} and (d / "mm").is_dir() else None
    return None
