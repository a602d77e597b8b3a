"""What a patch says, or its surroundings say, about the kernel it was written against.

    base_commit(patch)          the `base-commit:` trailer of its cover letter or its own
                                mail (git format-patch --base, b4)
    tree_version(path)          the version a tree's top Makefile gives ("5.17.0-rc7")
    repo_version(repo, rev)     `git describe --tags` of rev in a repository, else the
                                Makefile at rev

Nothing here writes to the repository; every failure (no such commit, no tag, no
Makefile) is None, so the caller can try the next source.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import git

_BASE_COMMIT = re.compile(r"^base-commit:\s*([0-9a-f]{7,40})\s*$", re.MULTILINE | re.IGNORECASE)
_MAKEFILE_FIELD = re.compile(r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=[ \t]*(\S*)[ \t]*$",
                             re.MULTILINE)


def base_commit(patch) -> str | None:
    """The base-commit trailer of the patch's series (its cover letter) or its own mail."""
    series = getattr(patch, "series", None)
    cover = getattr(series, "cover", None) if series is not None else None
    msg = getattr(patch, "message", None)
    for text in (getattr(cover, "body", ""), getattr(msg, "body", ""), getattr(patch, "diff_text", "")):
        m = _BASE_COMMIT.search(text or "")
        if m:
            return m.group(1).lower()
    return None


def makefile_version(text: str) -> str | None:
    """VERSION.PATCHLEVEL.SUBLEVEL plus EXTRAVERSION of a top Makefile ("5.17.0-rc7")."""
    fields = dict(_MAKEFILE_FIELD.findall(text))
    if not fields.get("VERSION", "").isdigit() or not fields.get("PATCHLEVEL", "").isdigit():
        return None
    sub = fields.get("SUBLEVEL", "0")
    return f"{fields['VERSION']}.{fields['PATCHLEVEL']}.{sub if sub.isdigit() else 0}" \
           f"{fields.get('EXTRAVERSION', '')}"


def tree_version(tree: str) -> str | None:
    try:
        return makefile_version((Path(tree) / "Makefile").read_text(errors="replace"))
    except OSError:
        return None


@functools.lru_cache(maxsize=32)
def repo_version(repo: str, rev: str = "HEAD") -> tuple[str, str] | None:
    """(version, how it was read) of `rev` in `repo`: `git describe --tags`, else the
    top Makefile at `rev`; None when neither says."""
    try:
        r = git.Repo(repo)
    except Exception:  # not a repository: the caller tries another source
        return None
    r.git.update_environment(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")
    try:
        try:
            return r.git.describe("--tags", rev).strip(), "git describe"
        except git.GitCommandError:
            pass
        try:
            text = r.git.show(f"{rev}:Makefile")
        except git.GitCommandError:
            return None
        version = makefile_version(text)
        return (version, f"the Makefile at {rev[:12]}") if version else None
    finally:
        r.close()
