"""Who the reviewer is, as replies and trailers name them: `Name <mail@host>`.

Found, first wins: --identity, $MMREVIEW_IDENTITY, git's `sendemail.from` (what
`git send-email` sends as), git's `user.name` with `user.email`. There is no default:
mail to a list from an invented address (`someone@localhost`) would be rejected or,
worse, sent, so without an identity export and trailers are refused with HINT.
"""
from __future__ import annotations

import email.utils
import os
import subprocess

from review.errors import InputError

HINT = ("no identity to sign replies with: set `git config --global user.name 'Your Name'` and "
        "`git config --global user.email you@example.org` (or sendemail.from), or pass "
        "--identity 'Your Name <you@example.org>'")


def _git_config(key: str, repo: str | None) -> str:
    cmd = ["git"] + (["-C", repo] if repo else []) + ["config", "--get", key]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def split(identity: str) -> tuple[str, str]:
    """(name, address) of `Name <mail>` or a bare address; ('', '') if it is neither."""
    name, addr = email.utils.parseaddr(identity)
    return (name, addr) if usable_address(addr) else ("", "")


def usable_address(addr: str) -> bool:
    """An address mail can be sent from: local part, '@', a domain with a dot."""
    local, at, domain = addr.rpartition("@")
    return bool(local and at and "." in domain.strip(".") and " " not in addr)


def usable(identity: str) -> bool:
    return bool(split(identity)[1])


def trailer_form(identity: str) -> str:
    """`Name <mail>` as trailers write it: no quotes around the name."""
    name, addr = split(identity)
    return f"{name} <{addr}>" if name else addr


def parse(text: str, what: str = "--identity") -> str:
    """An identity given by the user, in trailer form; InputError naming `what` if
    it is not one."""
    if not usable(text):
        raise InputError(f"{what} {text!r}: not 'Name <mail@host>'")
    return trailer_form(text)


def resolve(explicit: str | None = None, repo: str | None = None) -> str:
    """The reviewer's identity in trailer form, or '' when there is none."""
    if explicit:
        return parse(explicit)
    env = os.environ.get("MMREVIEW_IDENTITY", "").strip()
    if env:
        return parse(env, "$MMREVIEW_IDENTITY")
    sender = _git_config("sendemail.from", repo)
    if usable(sender):
        return trailer_form(sender)
    name, mail = _git_config("user.name", repo), _git_config("user.email", repo)
    if usable_address(mail):
        return f"{name} <{mail}>" if name else mail
    return ""


def require(identity: str) -> str:
    """`identity` if mail can be signed with it, else InputError(HINT)."""
    if not usable(identity):
        raise InputError(HINT)
    return trailer_form(identity)
