"""Reply mails (review/reviewer/export.py) written for mail tools.

- an mbox, written by the standard library's `mailbox`: each message after a
  `From <sender> <asctime>` line (the form `git mailsplit`, mutt and mailbox read),
  body lines starting with "From " quoted as ">From ";
- a directory of one `NNNN-<subject>.eml` per reply, for `git send-email DIR`
  (which sends every file of a directory, hence the directory holds nothing else).

Both are written beside and renamed into place, so a reader never sees half an export.
"""
from __future__ import annotations

import email.utils
import mailbox
import os
import re
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from review.errors import InputError
from review.reviewer.export import POLICY
from review.reviewer.files import atomic_write_bytes

_EML = re.compile(r"^\d{4}-[a-z0-9-]*\.eml$")


def _nothing(path: Path) -> InputError:
    return InputError(f"{path}: nothing to export (no comments, notes, replies or trailers yet)")


def _from_line(msg: EmailMessage) -> bytes:
    """`From <sender> <asctime>`: the mbox separator, dated when the reply was written."""
    sender = email.utils.parseaddr(str(msg["From"]))[1] or "MAILER-DAEMON"
    try:
        when = email.utils.parsedate_to_datetime(str(msg["Date"])).timestamp()
    except (TypeError, ValueError):
        when = time.time()
    return f"From {sender} {time.asctime(time.gmtime(when))}".encode()


def write_mbox(path: Path, messages: list[EmailMessage]) -> Path:
    """`messages` as an mbox at `path` (replacing it)."""
    path = Path(path)
    if not messages:
        raise _nothing(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        box = mailbox.mbox(tmp)
        for msg in messages:
            # bytes, not the message: mailbox's generator would unfold the headers
            box.add(_from_line(msg) + b"\n" + msg.as_bytes(policy=POLICY))
        box.flush()
        box.close()
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _slug(subject: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", subject.lower()).strip("-")
    return words[:52].rstrip("-")


def eml_names(messages: list[EmailMessage]) -> list[str]:
    """The files of a directory export: NNNN-<subject>.eml, in the order given."""
    return [f"{i:04d}-{_slug(str(m['Subject']))}.eml" for i, m in enumerate(messages, 1)]


def _check_dir(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: not a directory")
    others = sorted(p.name for p in directory.iterdir() if not _EML.match(p.name)) \
        if directory.is_dir() else []
    if others:
        raise InputError(f"{directory}: holds {others[0]}, which `git send-email {directory}` "
                         "would send too; export to an empty directory")


def write_eml_dir(directory: Path, messages: list[EmailMessage]) -> Path:
    """One .eml per message in `directory`, replacing the .eml files of an earlier
    export there. A directory holding anything else is refused: `git send-email
    DIR` would send it too."""
    directory = Path(directory)
    if not messages:
        raise _nothing(directory)
    _check_dir(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = eml_names(messages)
    stale = [p for p in directory.iterdir() if p.name not in names]
    for name, msg in zip(names, messages):
        atomic_write_bytes(directory / name, msg.as_bytes(policy=POLICY))
    for p in stale:
        p.unlink()
    return directory


def eml_dir_for(mbox_path: Path) -> Path:
    """The .eml directory beside an mbox: its name without .mbox."""
    mbox_path = Path(mbox_path)
    if mbox_path.suffix == ".mbox":
        return mbox_path.with_suffix("")
    return mbox_path.with_name(mbox_path.name + ".d")


def write_both(mbox_path: Path, messages: list[EmailMessage]) -> tuple[Path, Path]:
    """The mbox at `mbox_path` and the .eml directory beside it (eml_dir_for); both
    are checked first, so that a refusal writes nothing."""
    directory = eml_dir_for(mbox_path)
    if not messages:
        raise _nothing(Path(mbox_path))
    _check_dir(directory)
    return write_mbox(mbox_path, messages), write_eml_dir(directory, messages)
