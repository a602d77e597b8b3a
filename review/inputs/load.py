"""One entry point from an INPUT argument to the review model (see review/model.py).

    load(source, *, repo=None, stdin=None, lore_base=None, cache_dir=None) -> Collection

INPUT is, in this order of trial:
  - "-": a mailbox or a single message on stdin;
  - an existing path: an mbox, a maildir (cur/ new/), a directory of .patch/.eml
    files (git format-patch output), or one .eml/.patch file;
  - a lore URL or message-id: the thread's t.mbox.gz (review.inputs.lore);
  - with `repo`: a revision range of that repository ("A..B", "-N", one commit).
(With `repo` and a mail, the repository gives the mail's patches their whole files:
review/extract/sources.py.)
Anything else is an InputError naming the input.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import BinaryIO

from review.errors import InputError
from review.inputs import mail, quotes, series
from review.inputs.lore import fetch_thread, is_lore_source
from review.model import Collection

_RANGE_LIKE = re.compile(r"(\.\.)|(^-\d+$)|(^[0-9a-f]{7,40}$)|(^HEAD)")


def load(source: str, *, repo: str | None = None, stdin: BinaryIO | None = None,
         lore_base: str | None = None, cache_dir: str | None = None) -> Collection:
    source = os.fspath(source)
    if source == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            data = stream.read()
        except OSError as exc:
            raise InputError(f"stdin: cannot read ({exc.strerror or exc})") from None
        return from_mbox_bytes(data, "stdin")
    path = Path(source)
    if path.exists():
        return from_path(path, source)
    if repo is not None and not source.startswith(("http://", "https://")):
        # start-up: gitpython takes about 0.1 s to import, and only a range needs it
        from review.inputs.git import load_range

        try:
            return load_range(os.fspath(repo), source)
        except InputError:
            if not is_lore_source(source):   # not a revision, but maybe a message-id
                raise
    if is_lore_source(source):
        data, msgid, base = fetch_thread(source, lore_base=lore_base, cache_dir=cache_dir)
        coll = from_mbox_bytes(data, source, label=f"lore:{msgid}")
        return coll
    if _RANGE_LIKE.search(source):
        raise InputError(f"{source}: no such file; for a git revision range pass --repo PATH")
    raise InputError(f"{source}: no such file, and not a lore message-id or URL")


def from_path(path: Path, name: str) -> Collection:
    try:
        if path.is_dir():
            if mail.is_maildir(path):
                return build(mail.read_maildir(path), name)
            files = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix in (".patch", ".eml", ".mbox", ".diff"))
            if not files:
                raise InputError(f"{name}: a directory that is neither a maildir nor holds .patch/.eml files")
            raws: list[tuple[bytes, str]] = []
            for f in files:
                raws += [(r, f"{f.name}#{i}") for i, r in enumerate(mail.split_mbox(f.read_bytes(), str(f)))]
            return build(raws, name)
        data = path.read_bytes()
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    return from_mbox_bytes(data, name)


def from_mbox_bytes(data: bytes, name: str, *, label: str | None = None) -> Collection:
    """An mbox (or one message) held in memory."""
    raws = mail.split_mbox(data, name)
    tag = label or Path(name).name
    return build([(r, f"{tag}#{i}") for i, r in enumerate(raws)], name)


def build(raws: list[tuple[bytes, str]], name: str) -> Collection:
    """Raw messages -> Collection: parse, drop duplicates, thread, series, anchors."""
    if not raws:
        raise InputError(f"{name}: no messages")
    messages, _emails, dropped = mail.parse_many(raws)
    coll = Collection(source=name, kind="mail", messages=messages, duplicates_dropped=dropped)
    coll.threads = series.build_threads(messages)
    coll.series, patches = series.build_series(messages)
    quotes.anchor_all(messages)
    in_series = [p for s in coll.series for p in s.patches]
    seen = {id(p) for p in in_series}
    coll.patches = in_series + [p for p in patches if id(p) not in seen]
    if dropped:
        coll.notes.append(f"{dropped} duplicate cop{'y' if dropped == 1 else 'ies'} dropped")
    if not any(m.subject or m.body or m.author_email for m in messages):
        raise InputError(f"{name}: no readable mail in this input")
    return coll
