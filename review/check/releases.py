"""The kernel's mainline releases: their order and dates, and which release a patch
lands in.

RELEASES is the one table of release dates: the day Linus Torvalds tagged each vX.Y in
torvalds/linux.git, as kernel.org's release announcements and the "Linux kernel version
history" page list them. It starts at v5.0 (the eras modelled begin at v5.7) and ends
at the newest release the table knows; a date past it is "after the newest release".

A version names a point of mainline: `v5.17-rc7`, `v5.17`, a stable `v5.17.3`, what
`git describe` prints (`v5.17-rc7-123-gabcdef0`) or a Makefile gives (`5.17.0-rc7`).
A patch based on it lands, at the earliest, in the release after its `X.Y`: a patch on
v5.17-rc7 (or v5.17, or a commit after either) goes into the next merge window, v5.18.
Fixes for the current -rc can land sooner; the check models the ordinary case.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

RELEASES: tuple[tuple[str, _dt.date], ...] = tuple((name, _dt.date.fromisoformat(day)) for name, day in (
    ("v5.0", "2019-03-03"), ("v5.1", "2019-05-05"), ("v5.2", "2019-07-07"),
    ("v5.3", "2019-09-15"), ("v5.4", "2019-11-24"), ("v5.5", "2020-01-26"),
    ("v5.6", "2020-03-29"), ("v5.7", "2020-05-31"), ("v5.8", "2020-08-02"),
    ("v5.9", "2020-10-11"), ("v5.10", "2020-12-13"), ("v5.11", "2021-02-14"),
    ("v5.12", "2021-04-25"), ("v5.13", "2021-06-27"), ("v5.14", "2021-08-29"),
    ("v5.15", "2021-10-31"), ("v5.16", "2022-01-09"), ("v5.17", "2022-03-20"),
    ("v5.18", "2022-05-22"), ("v5.19", "2022-07-31"), ("v6.0", "2022-10-02"),
    ("v6.1", "2022-12-11"), ("v6.2", "2023-02-19"), ("v6.3", "2023-04-23"),
    ("v6.4", "2023-06-25"), ("v6.5", "2023-08-27"), ("v6.6", "2023-10-30"),
    ("v6.7", "2024-01-07"), ("v6.8", "2024-03-10"), ("v6.9", "2024-05-12"),
    ("v6.10", "2024-07-14"), ("v6.11", "2024-09-15"), ("v6.12", "2024-11-17"),
    ("v6.13", "2025-01-19"), ("v6.14", "2025-03-24"), ("v6.15", "2025-05-25"),
    ("v6.16", "2025-07-27"), ("v6.17", "2025-09-28"), ("v6.18", "2025-11-30"),
))

# The merge window: the two weeks after a release, closed by the next release's -rc1.
MERGE_WINDOW = _dt.timedelta(days=14)

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-rc(\d+))?(?:-(\d+)-g[0-9a-f]+)?(?:-dirty)?$")


@dataclass(frozen=True, order=True)
class Version:
    """A point of mainline: release X.Y, or its -rcN (rc 0: the release itself).
    Ordering is meant for releases (rc 0), as the eras compare them."""
    major: int
    minor: int
    rc: int = 0

    @property
    def release(self) -> "Version":
        return Version(self.major, self.minor)

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}" + (f"-rc{self.rc}" if self.rc else "")


def parse(text: str) -> Version | None:
    """`v5.17-rc7`, `5.17.0-rc7`, `v5.17.3`, `v5.17-rc7-12-gabcdef0` -> Version; None
    for anything else (a branch name, a sha)."""
    m = _VERSION.match(text.strip())
    if not m:
        return None
    return Version(int(m.group(1)), int(m.group(2)), int(m.group(4) or 0))


_KNOWN = [parse(name) for name, _ in RELEASES]


def next_release(release: Version) -> Version:
    """The release after `release` (v5.19 -> v6.0, from the table; past the table,
    X.Y+1)."""
    release = release.release
    later = [v for v in _KNOWN if (v.major, v.minor) > (release.major, release.minor)]
    return later[0] if later else Version(release.major, release.minor + 1)


def lands_in(base: Version) -> Version:
    """The first release a patch based on `base` can land in: the one after its X.Y."""
    return next_release(base)


def known(release: Version) -> bool:
    return release.release in _KNOWN


def describe_landing(release: Version) -> str:
    """"lands in v5.18", or, past the table, "lands after v6.18, the newest release
    known here"."""
    if known(release):
        return f"lands in {release}"
    return f"lands after {_KNOWN[-1]}, the newest release known here"


def mainline_on(day: _dt.date) -> tuple[Version | None, str]:
    """What mainline was on `day`, as a base version, and how that was read: the newest
    release before it during its merge window, else the next release's -rc. (None, why)
    before the table."""
    done = [(parse(name), date) for name, date in RELEASES if date <= day]
    if not done:
        return None, f"before {RELEASES[0][0]}, the oldest release known here"
    latest, date = done[-1]
    if day < date + MERGE_WINDOW:
        return latest, f"the {latest} merge window"
    following = next_release(latest)
    return Version(following.major, following.minor, rc=1), f"mainline at {following}-rc"
