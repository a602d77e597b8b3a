"""mmreview show INPUT [--format text|json] [--repo PATH]: what an input holds.

The thread tree (as lore's nested thread overview shows it), each series and its
versions, and per patch its files, hunks, trailers and the review comments
anchored to its lines. The JSON form is documented in docs/show-json.md.
Text from mail is printed through review.terminal: control characters, escape
sequences, bidi and zero-width characters are shown escaped, so a message can not move
the cursor, recolour the terminal or reorder what the reader sees; the JSON form
escapes them too.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import sys
from typing import Any

from review import terminal
from review.inputs.load import load
from review.model import Anchor, Collection, Message, Patch, ReviewComment, Series, ThreadNode, Trailer

HELP = "show the threads, series, patches, trailers and anchored review comments of an input"
SCHEMA = "mmreview.show/1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="INPUT",
                        help="mbox, maildir, .eml/.patch, - (stdin), lore message-id or URL, "
                             "or a revision range with --repo")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--repo", metavar="PATH", help="read INPUT as a revision range of this git repository")
    parser.add_argument("--lore", metavar="URL", dest="lore_base",
                        help="public-inbox base URL (default $MMREVIEW_LORE or https://lore.kernel.org/all)")


def run(args: argparse.Namespace) -> int:
    coll = load(args.input, repo=args.repo, lore_base=getattr(args, "lore_base", None))
    if args.format == "json":
        sys.stdout.write(terminal.json_dumps(to_json(coll), indent=1, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(to_text(coll))
    return 0


# --- JSON ------------------------------------------------------------------------------


def _iso(d: _dt.datetime | None) -> str | None:
    return d.isoformat() if d else None


class _Ids:
    def __init__(self, coll: Collection):
        self.series = {id(s): f"s{i}" for i, s in enumerate(coll.series)}
        self.patches = {id(p): f"p{i}" for i, p in enumerate(coll.patches)}

    def s(self, s: Series | None) -> str | None:
        return self.series.get(id(s)) if s is not None else None

    def p(self, p: Patch | None) -> str | None:
        return self.patches.get(id(p)) if p is not None else None


def _trailer(t: Trailer) -> dict[str, Any]:
    return {
        "name": t.name, "value": t.value, "kind": t.kind,
        "person": {"name": t.person_name, "email": t.person_email} if t.person_email else None,
        "message": t.message.msgid if t.message else None,
        "from_reply": t.from_reply, "applies_to": t.applies_to,
    }


def _anchor(a: Anchor | None, ids: _Ids) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "patch": ids.p(a.patch), "file": a.path, "hunk": a.hunk.index, "hunk_header": a.hunk.header,
        "side": a.side, "line": a.line,
        "first": {"old": a.first.old_lineno, "new": a.first.new_lineno, "index": a.first.index},
        "last": {"old": a.last.old_lineno, "new": a.last.new_lineno, "index": a.last.index},
        "quoted_lines": a.quoted_lines, "exact": a.exact,
    }


def _comment(c: ReviewComment, ids: _Ids) -> dict[str, Any]:
    return {
        "message": c.message.msgid, "author": {"name": c.message.author_name, "email": c.message.author_email},
        "date": _iso(c.message.date), "text": c.text, "quote_depth": c.quote_depth,
        "quoted": c.quoted, "body_line": c.body_line, "anchor": _anchor(c.anchor, ids),
    }


def _patch(p: Patch, ids: _Ids) -> dict[str, Any]:
    return {
        "id": ids.p(p), "label": p.label, "title": p.title,
        "author": {"name": p.author_name, "email": p.author_email}, "date": _iso(p.date),
        "message": p.message.msgid if p.message else None, "commit": p.commit, "parents": p.parents,
        "series": ids.s(p.series), "version": p.version, "counter": p.counter, "expected": p.expected,
        "inline": p.inline, "revises": ids.p(p.revises),
        "commit_message": p.commit_message, "notes": p.notes, "warnings": p.warnings,
        "trailers": [_trailer(t) for t in p.trailers],
        "files": [{
            "path": f.path, "old_path": f.old_path, "new_path": f.new_path, "status": f.status,
            "binary": f.is_binary, "similarity": f.similarity, "old_mode": f.old_mode, "new_mode": f.new_mode,
            "added": f.added_count, "removed": f.removed_count, "warnings": f.warnings,
            "pre_image": f.pre_image is not None, "post_image": f.post_image is not None,
            "hunks": [{
                "index": h.index, "header": h.header, "old_start": h.old_start, "old_count": h.old_count,
                "new_start": h.new_start, "new_count": h.new_count, "section": h.section,
                "warnings": h.warnings,
                "lines": [{"kind": ln.kind, "old": ln.old_lineno, "new": ln.new_lineno, "text": ln.text}
                          for ln in h.lines],
            } for h in f.hunks],
        } for f in p.files],
        "comments": [_comment(c, ids) for c in p.comments],
    }


def _node(n: ThreadNode) -> dict[str, Any]:
    return {"id": n.msgid, "missing": n.missing, "by_subject": n.by_subject,
            "children": [_node(c) for c in n.children]}


def _message(m: Message, ids: _Ids) -> dict[str, Any]:
    si = m.subject_info
    return {
        "id": m.msgid, "subject": m.subject, "author": {"name": m.author_name, "email": m.author_email},
        "date": _iso(m.date), "in_reply_to": m.in_reply_to, "references": m.references,
        "source": m.source, "warnings": m.warnings, "body": m.body,
        "subject_info": None if si is None else {
            "title": si.title, "is_patch": si.is_patch, "is_reply": si.is_reply, "is_cover": si.is_cover,
            "version": si.version, "counter": si.counter if si.counter_stated else None,
            "expected": si.expected if si.counter_stated else None, "prefixes": list(si.prefixes),
        },
        "patch": ids.p(m.patch), "answers_patch": ids.p(m.replied_patch),
        "trailers": [_trailer(t) for t in m.trailers],
        "comments": [_comment(c, ids) for c in m.comments],  # also under their patch, when they have one
    }


def to_json(coll: Collection) -> dict[str, Any]:
    ids = _Ids(coll)
    return {
        "schema": SCHEMA, "source": coll.source, "kind": coll.kind,
        "warnings": coll.warnings, "notes": coll.notes, "duplicates_dropped": coll.duplicates_dropped,
        "messages": [_message(m, ids) for m in coll.messages],
        "threads": [_node(n) for n in coll.threads],
        "series": [{
            "id": ids.s(s), "title": s.title, "version": s.version, "expected": s.expected,
            "author": {"name": s.author_name, "email": s.author_email}, "prefixes": list(s.prefixes),
            "cover": s.cover.msgid if s.cover else None, "patches": [ids.p(p) for p in s.patches],
            "missing": s.missing, "change_id": s.change_id, "previous": ids.s(s.previous),
            "next": ids.s(s.next), "linked_by": s.linked_by, "trailers": [_trailer(t) for t in s.trailers],
            "comments": [_comment(c, ids) for c in s.comments],
        } for s in coll.series],
        "patches": [_patch(p, ids) for p in coll.patches],
    }


# --- text ------------------------------------------------------------------------------


def _when(d: _dt.datetime | None) -> str:
    if d is None:
        return "????-??-?? ??:??"
    if d.tzinfo is not None:
        d = d.astimezone(_dt.timezone.utc)
    return d.strftime("%Y-%m-%d %H:%M")


def _first_line(text: str, width: int = 72) -> str:
    line = next((l for l in text.splitlines() if l.strip()), "")
    return line if len(line) <= width else line[: width - 3] + "..."


def to_text(coll: Collection) -> str:
    out: list[str] = []
    w = out.append
    if coll.kind == "mail":
        w(f"{coll.source}: {len(coll.messages)} messages, {len(coll.series)} series, "
          f"{len(coll.patches)} patches")
    else:
        w(f"{coll.source}: {len(coll.patches)} commits")
    for note in coll.notes + coll.warnings:
        w(f"  note: {note}")
    if coll.threads:
        w("")
        w("Thread overview:")
        for root in coll.threads:
            for n in root.walk():
                indent = "" if n.depth == 0 else "  " * (n.depth - 1) + "` "
                if n.message is None:
                    w(f"{'':16} {indent}(absent) <{n.msgid}>")
                else:
                    m = n.message
                    mark = " [by subject]" if n.by_subject else ""
                    w(f"{_when(m.date)} {indent}{m.subject} {m.author_name or m.author_email}{mark}")
    bad = [m for m in coll.messages if m.warnings]
    if bad:
        w("")
        w("Warnings:")
        for m in bad:
            for x in m.warnings:
                w(f"  <{m.msgid}>: {x}")
    for s in coll.series:
        w("")
        prefix = " ".join(s.prefixes)
        w(f"Series v{s.version}{' ' + prefix if prefix else ''}: {s.title}")
        w(f"  by {s.author}; {len(s.patches)} of {s.expected} patches"
          f"{', cover letter' if s.cover else ', no cover letter'}"
          + (f"; absent: {', '.join(str(i) for i in s.missing)}" if s.missing else ""))
        if s.change_id:
            w(f"  change-id: {s.change_id}")
        if s.previous:
            w(f"  previous version: v{s.previous.version} (linked by {s.linked_by})")
        if s.next:
            w(f"  next version: v{s.next.version}")
        for t in s.trailers:
            w(f"  {t.name}: {t.value}  (on the cover, from <{t.message.msgid if t.message else '?'}>)")
        for c in s.comments:
            w(f"  comment on the series by {c.message.author_name or c.message.author_email}: {_first_line(c.text)}")
    for p in coll.patches:
        w("")
        _patch_text(p, w)
    # Replies to messages the input lacks (an absent patch) have no patch to sit under.
    on_patches = {id(c) for p in coll.patches for c in p.comments}
    on_patches |= {id(c) for s in coll.series for c in s.comments}
    loose = [c for c in coll.comments if id(c) not in on_patches]
    if loose:
        w("")
        w("Comments on absent or unidentified patches:")
        for c in loose:
            w(f"  <{c.message.msgid}> {c.message.subject[:60]}")
            w(f"    by {c.message.author_name or c.message.author_email}: {_first_line(c.text)}")
    # every line through review.terminal: no field of a message can be missed
    return "\n".join(terminal.escape(line, keep="\t\n") for line in out) + "\n"


def _patch_text(p: Patch, w) -> None:
    head = f"[{p.label}] {p.title}"
    if p.inline and p.message is not None:
        head += f"  (inline in <{p.message.msgid}>)"
    w(head)
    w(f"  author: {p.author}")
    for x in p.warnings:
        w(f"  warning: {x}")
    for f in p.files:
        name = f.path if f.status != "renamed" else f"{f.old_path} -> {f.new_path}"
        extra = f" {f.similarity}%" if f.similarity is not None else ""
        w(f"  {f.status:8} {name} (+{f.added_count} -{f.removed_count}){extra}"
          + (" binary" if f.is_binary else ""))
        for h in f.hunks:
            w(f"           {h.header}")
    for t in p.trailers:
        where = f"from <{t.message.msgid}>" if t.from_reply and t.message else "in patch"
        w(f"  {t.name}: {t.value}  ({where})")
    for c in p.comments:
        a = c.anchor
        loc = f"{a.path}:{a.line} ({a.side}{'' if a.exact else ', elided'})" if a else "general"
        w(f"  comment {loc} by {c.message.author_name or c.message.author_email}: {_first_line(c.text)}")
