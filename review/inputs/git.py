"""A revision range of a local git repository -> the review model, read only.

gitpython drives git: `rev-list` for the range (oldest first), `diff-tree -p -M
--root` per commit for the diff (renames followed), and the object database
(cat-file --batch behind gitpython) for the full pre- and post-image of each
touched file. Nothing here checks out, writes a ref, the index or the object
store (GIT_OPTIONAL_LOCKS=0 also stops git from refreshing the index behind our
back); bare repositories work the same.

Ranges: "A..B", "A...B", "A.." (to HEAD), "-N" (the last N commits of HEAD), or one
revision (that commit alone). Merge commits are skipped with a note: their diff
against the first parent is the merged branch, not a patch anybody reviews.
"""
from __future__ import annotations

import os
import re

import git
from liblore import utils as lu

from review.errors import InputError
from review.inputs import bodyparts
from review.inputs.patch import parse_diff
from review.inputs.series import is_trailer_name, parse_trailer, trailer_from_lore
from review.model import Collection, Patch, Series

_LAST_N = re.compile(r"^-(\d+)$")
_BIG = 8 * 1024 * 1024  # larger files are not kept as whole images


def _open(repo_path: str):
    if not os.path.exists(repo_path):
        raise InputError(f"{repo_path}: no such directory")
    try:
        repo = git.Repo(repo_path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise InputError(f"{repo_path}: not a git repository") from None
    except Exception as exc:
        raise InputError(f"{repo_path}: cannot open repository ({type(exc).__name__})") from None
    repo.git.update_environment(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")
    return repo


def _git_error(exc) -> str:
    """git's own 'fatal: ...' reason out of gitpython's multi-line exception text."""
    text = str(getattr(exc, "stderr", "") or exc)
    m = re.search(r"(?:fatal|error): (.*?)'?\s*$", text, re.M)
    if m:
        return m.group(1).strip()
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[-1][:120] if lines else "git failed"


def resolve_range(repo, rev_range: str) -> list[str]:
    """Commit ids of the range, oldest first (merges included; the caller skips them)."""
    spec = rev_range.strip()
    if not spec or spec.startswith("--") or "\n" in spec:
        raise InputError(f"{rev_range!r}: not a revision range")
    try:
        m = _LAST_N.match(spec)
        if m:
            out = repo.git.rev_list("--reverse", f"--max-count={int(m.group(1))}", "HEAD", "--")
        elif ".." in spec:
            left, _, right = spec.partition("...") if "..." in spec else spec.partition("..")
            if left.startswith("-") or right.startswith("-"):
                raise InputError(f"{rev_range}: not a revision range")
            if not right:
                spec = spec + "HEAD"
            out = repo.git.rev_list("--reverse", spec, "--")
        else:
            if spec.startswith("-"):
                raise InputError(f"{rev_range}: not a revision range")
            out = repo.git.rev_parse("--verify", "--end-of-options", f"{spec}^{{commit}}")
    except git.GitCommandError as exc:
        raise InputError(f"{rev_range}: unknown revision or range in {repo.git_dir} ({_git_error(exc)})") from None
    return [line for line in out.split() if line]


def _blob_text(commit, path: str | None) -> str | None:
    if commit is None or path is None:
        return None
    try:
        blob = commit.tree / path
    except KeyError:
        return None
    if getattr(blob, "type", "") != "blob" or blob.size > _BIG:
        return None
    data = blob.data_stream.read()
    if b"\x00" in data[:8192]:
        return None  # binary: no text image
    return data.decode("utf-8", "replace")


def commit_patch(repo, commit) -> Patch:
    """One non-merge commit as a Patch, with pre/post images of every touched file."""
    raw = repo.git.diff_tree("-p", "-M", "--root", "--no-commit-id", "--no-color",
                             "--no-ext-diff", "--full-index", commit.hexsha,
                             stdout_as_string=False)
    diff = raw.decode("utf-8", "replace")
    files, warnings = parse_diff(diff)
    message = commit.message if isinstance(commit.message, str) else commit.message.decode("utf-8", "replace")
    # The summary line is not part of the trailer search: liblore would read a
    # one-paragraph "mm: fix x" as a trailer named "mm".
    rest = message.split("\n", 1)[1].strip("\n") if "\n" in message.strip("\n") else ""
    parts = bodyparts.split_body_parts(rest) if rest else lu.BodyParts([], "", [], "", "")
    body = parts.message.strip("\n")
    patch = Patch(
        title=commit.summary if isinstance(commit.summary, str) else str(commit.summary),
        author_name=commit.author.name or "", author_email=commit.author.email or "",
        commit_message=body, diff_text=diff, files=files, commit=commit.hexsha,
        parents=[p.hexsha for p in commit.parents], date=commit.authored_datetime,
        warnings=warnings,
    )
    for name, value in [(n, v) for n, v in parts.trailers if is_trailer_name(n)]:
        patch.trailers.append(trailer_from_lore(parse_trailer(name, value), None, from_reply=False))
    parent = commit.parents[0] if commit.parents else None
    for f in files:
        f.pre_image = _blob_text(parent, f.old_path)
        f.post_image = _blob_text(commit, f.new_path)
    return patch


def load_range(repo_path: str, rev_range: str) -> Collection:
    repo = _open(repo_path)
    try:
        shas = resolve_range(repo, rev_range)
        coll = Collection(source=f"{rev_range} in {repo_path}", kind="git")
        patches: list[Patch] = []
        for sha in shas:
            commit = repo.commit(sha)
            if len(commit.parents) > 1:
                coll.notes.append(f"merge {sha[:12]} skipped ({commit.summary})")
                continue
            patches.append(commit_patch(repo, commit))
    except git.GitCommandError as exc:
        raise InputError(f"{rev_range}: git failed in {repo_path} ({_git_error(exc)})") from None
    except ValueError as exc:  # gitpython: bad object names
        raise InputError(f"{rev_range}: {exc} in {repo_path}") from None
    finally:
        repo.close()
    if not patches:
        coll.warnings.append(f"{rev_range}: no commits to review in this range")
    if patches:
        s = Series(title=rev_range, version=1, expected=len(patches),
                   author_name=patches[0].author_name, author_email=patches[0].author_email,
                   date=patches[0].date)
        for i, p in enumerate(patches, 1):
            p.counter, p.expected, p.series = i, len(patches), s
        s.patches = patches
        coll.series = [s]
    coll.patches = patches
    return coll
