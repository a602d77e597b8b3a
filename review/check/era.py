"""The era of a patch: which preset of spec/presets.py its rules are laid over.

A patch is checked against the kernel it will land in, not against today's: a change
written for v5.17 must keep v5.17's promises, and cannot break an internal invariant of
a design that came later (PG_anon_exclusive, v5.19). The base is read, first that
answers:

  1. `--era NAME` (the user's word);
  2. the `base-commit:` trailer, described in `--repo` (`git describe --tags`);
  3. for a git range, the first commit's parent, described the same way;
  4. the top Makefile of `--tree`;
  5. `--repo`'s HEAD (described, or its Makefile);
  6. the mail's date: what mainline was then (review/check/releases.py);
  7. nothing: the reference preset.

The patch lands in the release after its base's X.Y (releases.lands_in: a patch on
v5.17-rc7 lands in v5.18, one on v5.18 in v5.19), and its era is the newest preset
whose first release is not after that release: the preset modelling it.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from spec.presets import PRESETS, REFERENCE

from review.check import releases
from review.inputs.base import base_commit, repo_version, tree_version


@dataclass(frozen=True)
class Era:
    name: str      # a preset of spec/presets.py
    why: str       # how it was chosen, for the report

    def line(self) -> str:
        return f"era {self.name} ({self.why})"


def preset_for(release: releases.Version, presets: dict | None = None) -> str:
    """The newest preset whose first release is not after `release`; the oldest preset
    for a release older than all of them."""
    ranked = sorted(((releases.parse(rs.first_release), name)
                     for name, rs in (presets or PRESETS).items() if releases.parse(rs.first_release)),
                    key=lambda x: x[0])
    fitting = [name for first, name in ranked if first <= release.release]
    return fitting[-1] if fitting else ranked[0][1]


def _from_version(text: str, source: str) -> Era | None:
    version = releases.parse(text)
    if version is None:
        return None
    lands = releases.lands_in(version)
    return Era(preset_for(lands), f"{source} is {version}: {releases.describe_landing(lands)}")


def _from_date(day: _dt.date) -> Era | None:
    base, how = releases.mainline_on(day)
    when = f"mail of {day.day} {day:%b %Y}"
    if base is None:
        oldest = preset_for(releases.Version(0, 0))
        return Era(oldest, f"{when}: {how}")
    lands = releases.lands_in(base)
    if not releases.known(base):
        return Era(preset_for(lands), f"{when}: {releases.describe_landing(lands)}")
    return Era(preset_for(lands), f"{when}: {how}: {releases.describe_landing(lands)}")


def _date_of(patch) -> _dt.date | None:
    series = getattr(patch, "series", None)
    msg = getattr(patch, "message", None)
    for when in (getattr(series, "date", None), getattr(msg, "date", None), getattr(patch, "date", None)):
        if isinstance(when, _dt.datetime):
            return when.date()
    return None


def _from_repo(repo: str, rev: str, source: str) -> Era | None:
    got = repo_version(repo, rev)
    if got is None:
        return None
    version, how = got
    return _from_version(version, f"{source} ({how})" if how != "git describe" else source)


def choose(patch, *, override: str | None = None, tree: str | None = None,
           repo: str | None = None) -> Era:
    """The era of `patch` (review.model.Patch), from the first source that answers."""
    if override:
        return Era(override, "--era")
    sha = base_commit(patch)
    if sha and repo:
        era = _from_repo(repo, sha, f"base-commit {sha[:12]}")
        if era:
            return era
    parents = getattr(patch, "parents", None) or []
    if repo and getattr(patch, "commit", None) and parents:
        era = _from_repo(repo, parents[0], f"the parent of {patch.commit[:12]}")
        if era:
            return era
    if tree:
        version = tree_version(tree)
        era = _from_version(version, "the tree's Makefile") if version else None
        if era:
            return era
    if repo:
        era = _from_repo(repo, "HEAD", "the repository's HEAD")
        if era:
            return era
    day = _date_of(patch)
    era = _from_date(day) if day else None
    return era or Era(REFERENCE, "nothing says what the patch is based on: the reference")
