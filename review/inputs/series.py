"""Threads, series, versions and trailers.

liblore gives subject parsing (parse_patch_subject, via review.inputs.mail) and trailer
reading (extract_trailers with b4's follow-up rules; Trailer.parse for
classification). Our own code, and why:
  - the reply *tree*: liblore's group_by_thread only partitions messages into
    connected components; a reviewer needs parent/child (lore's nested overview),
    so build_threads() links by In-Reply-To, then References (JWZ-style
    placeholders for absent messages), then a subject fallback;
  - series grouping and version linking: liblore summarises one thread; it does not
    group patches under their cover letter or link v1 to v2.
"""
from __future__ import annotations

import datetime as _dt
import re

from liblore import utils as lu
from liblore.series import _REPLY_IGNORES, _is_self_attested
from liblore.series import Trailer as _LoreTrailer
from liblore.utils import strip_reply_prefixes

from review.model import Message, Patch, Series, ThreadNode, Trailer
from review.inputs import bodyparts
from review.inputs.patch import build_patch, find_inline_patch

_CHANGE_ID = re.compile(r"^change-id:\s*(\S+)\s*$", re.I | re.M)
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _date_key(msg: Message | None) -> tuple:
    if msg is None or msg.date is None:
        return (_EPOCH, msg.index if msg else 0)
    d = msg.date if msg.date.tzinfo else msg.date.replace(tzinfo=_dt.timezone.utc)
    return (d, msg.index)


def _aware(d: _dt.datetime | None) -> _dt.datetime:
    if d is None:
        return _EPOCH
    return d if d.tzinfo else d.replace(tzinfo=_dt.timezone.utc)


def _node_key(node: ThreadNode) -> tuple:
    if node.message is not None:
        return _date_key(node.message)
    # A placeholder sorts by its earliest present descendant.
    keys = [_date_key(n.message) for n in node.walk() if n.message is not None]
    return min(keys) if keys else (_EPOCH, 0)


def _is_ancestor(candidate: ThreadNode, node: ThreadNode) -> bool:
    """True if `candidate` is `node` or one of its ancestors (cycle guard)."""
    seen = 0
    while node is not None and seen < 10000:
        if node is candidate:
            return True
        node, seen = node.parent, seen + 1
    return False


def _link(child: ThreadNode, parent: ThreadNode, *, by_subject: bool = False) -> bool:
    if child.parent is not None or _is_ancestor(child, parent):
        return False
    child.parent = parent
    child.by_subject = by_subject
    parent.children.append(child)
    return True


def _bare_subject(msg: Message) -> str:
    s, _ = strip_reply_prefixes(msg.subject)
    s = re.sub(r"^(\s*\[[^]]*]\s*)+", "", s)
    return re.sub(r"\s+", " ", s).strip().lower()


def build_threads(messages: list[Message]) -> list[ThreadNode]:
    """Reply tree by In-Reply-To, then References, then subject; returns the roots."""
    nodes: dict[str, ThreadNode] = {m.msgid: ThreadNode(m.msgid, m) for m in messages}

    def node(msgid: str) -> ThreadNode:
        if msgid not in nodes:
            nodes[msgid] = ThreadNode(msgid)  # placeholder for an absent message
        return nodes[msgid]

    for m in messages:
        parent_id = m.in_reply_to or (m.references[-1] if m.references else None)
        if parent_id:
            _link(nodes[m.msgid], node(parent_id))
    # References give absent messages their place: each listed id answers the one
    # before it. Only placeholders are placed this way; a present message's own
    # In-Reply-To wins.
    for m in messages:
        chain = list(m.references)
        if m.in_reply_to and m.in_reply_to not in chain:
            chain.append(m.in_reply_to)
        for older, newer in zip(chain, chain[1:]):
            n = node(newer)
            if n.message is None and n.parent is None:
                _link(n, node(older))

    # Subject fallback for messages without any threading header.
    roots = [n for n in nodes.values() if n.parent is None]
    covers: dict[tuple, ThreadNode] = {}
    originals: dict[str, ThreadNode] = {}
    for n in sorted(roots, key=_node_key):
        m = n.message
        if m is None or m.is_reply or not m.subject_info:
            continue
        si = m.subject_info
        if si.is_cover:
            covers.setdefault((m.author_email.lower(), si.version, si.expected, si.is_resend), n)
        originals.setdefault(_bare_subject(m), n)  # earliest non-reply with that subject
    for n in roots:
        m = n.message
        if m is None or m.in_reply_to or m.references or not m.subject_info:
            continue
        si = m.subject_info
        if si.is_reply:
            target = originals.get(_bare_subject(m))
            if target is not None and target is not n:
                _link(n, target, by_subject=True)
        elif si.is_patch and si.counter_stated and si.counter > 0:
            target = covers.get((m.author_email.lower(), si.version, si.expected, si.is_resend))
            if target is not None:
                _link(n, target, by_subject=True)

    for n in nodes.values():
        n.children.sort(key=_node_key)
        if n.message is not None:
            n.message.thread = n
            n.message.parent = n.parent.message if n.parent else None
    return sorted((n for n in nodes.values() if n.parent is None), key=_node_key)


# --- patches and series ---------------------------------------------------------------


def _ancestors(node: ThreadNode):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def _make_patch(msg: Message, text: str, *, inline: bool) -> Patch:
    si = msg.subject_info
    title = si.title if si else msg.subject
    patch = build_patch(text, title=title, author=(msg.author_name, msg.author_email))
    patch.message, patch.inline, patch.date = msg, inline, msg.date
    if si and not inline:
        patch.counter = si.counter if si.counter_stated else 1
        patch.expected = si.expected if si.counter_stated else 1
        patch.version = si.version
    for w in patch.warnings:
        msg.warnings.append(w)
    msg.patch = patch
    return patch


# A trailer token as git's interpret-trailers reads it: letters, digits, '-'.
# liblore's patch-body reader is more liberal and takes "trace.py: ..." prose too.
_TRAILER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


def parse_trailer(name: str, value: str, **origin) -> _LoreTrailer:
    """liblore's Trailer.parse, which raises on a non-ASCII address (formataddr):
    such a trailer is kept unclassified instead of costing the whole input."""
    try:
        return _LoreTrailer.parse(name, value, **origin)
    except (UnicodeError, ValueError, TypeError, IndexError):
        return _LoreTrailer(name=name, value=value, msgid=origin.get("msgid"), date=origin.get("date"))


def is_trailer_name(name: str) -> bool:
    return bool(_TRAILER_NAME.match(name))


def _own_trailers(patch: Patch) -> None:
    for name, value in getattr(patch, "_body_trailers", []):
        if not is_trailer_name(name):
            continue
        lt = parse_trailer(name, value)
        patch.trailers.append(trailer_from_lore(lt, patch.message, from_reply=False))
    if patch.message is not None:
        patch.message.trailers.extend(patch.trailers)


def trailer_from_lore(lt: _LoreTrailer, msg: Message | None, *, from_reply: bool) -> Trailer:
    """The review model's Trailer for one liblore read, given in `msg` (None: a commit's)."""
    return Trailer(
        name=lt.name, value=lt.value, kind=lt.type,  # type: ignore[arg-type]
        person_name=lt.addr[0] if lt.addr else None,
        person_email=lt.addr[1] if lt.addr else None,
        message=msg, from_reply=from_reply,
    )


def build_series(messages: list[Message]) -> tuple[list[Series], list[Patch]]:
    """Find patches (series, stand-alone, inline), group them under their cover
    letter, link versions, collect trailers. Returns (series, all patches)."""
    patches, covers = _posted_patches(messages)
    order = _group(patches, covers)
    for s in order:
        _complete(s)
    _link_versions(order)
    mark_covers(order)
    # Series in posting order, whatever order the input held the mails in.
    order.sort(key=lambda s: (_aware(s.date), s.version))
    inline = _inline_patches(messages, covers)
    for p in patches + inline:
        _own_trailers(p)
    _attach_reply_trailers(messages, covers)
    return order, patches + inline


def _posted_patches(messages: list[Message]) -> tuple[list[Patch], list[Message]]:
    """(the patches posted as patches, the cover letters)."""
    patches: list[Patch] = []
    covers: list[Message] = []
    for m in messages:
        si = m.subject_info
        if si and si.is_cover and not si.is_reply:
            covers.append(m)
            continue
        if si and si.is_reply or m.in_reply_to and not (si and si.is_patch):
            continue
        if _has_diff(m.body):
            patches.append(_make_patch(m, m.body, inline=False))
    return patches, covers


def _group(patches: list[Patch], covers: list[Message]) -> list[Series]:
    """Every cover letter's series, then the patches under theirs (new series for
    patches without one); a second copy of one patch number starts a series apart."""
    groups: dict[tuple, Series] = {}
    order: list[Series] = []
    cover_ids = {c.msgid for c in covers}
    for c in covers:
        s = _new_series(c, c.subject_info.title)
        s.cover = c
        groups[("cover", c.msgid)] = s
        order.append(s)
    for p in patches:
        m = p.message
        key = _series_key(m, cover_ids)
        if key not in groups:
            s = _new_series(m, p.title)
            s.expected = p.expected
            groups[key] = s
            order.append(s)
        s = groups[key]
        if any(q.counter == p.counter for q in s.patches):
            m.warnings.append(f"second copy of patch {p.counter}/{p.expected} in this series; kept apart")
            s2 = _new_series(m, p.title)
            s2.expected = p.expected
            groups[(*key, m.msgid)] = s2
            order.append(s2)
            s = s2
        s.patches.append(p)
        p.series = s
    return order


def _series_key(m: Message, cover_ids: set[str]) -> tuple | None:
    """Which series a patch mail belongs to: its cover letter's (the nearest one up
    the thread of the same version and length), else its thread's (by author and
    version), else its own when it is not numbered."""
    si = m.subject_info
    if si and si.counter_stated and m.thread is not None:
        for anc in _ancestors(m.thread):
            am = anc.message
            if am is not None and am.msgid in cover_ids and am.subject_info.version == si.version \
                    and am.subject_info.expected == si.expected:
                return ("cover", am.msgid)
        root = m.thread
        for anc in _ancestors(m.thread):
            root = anc
        # A patch that heads its own thread is the root its followers name
        # (deep threading without a cover: 2/n answers 1/n); a lone root with
        # no followers is unthreaded and groups by author and version.
        if root is m.thread and not _heads_patches(m.thread):
            root_id = None
        else:
            root_id = root.msgid
        return ("thread", root_id, m.author_email.lower(), si.version, si.expected, si.is_resend)
    if si is None or not si.counter_stated:
        return ("single", m.msgid)
    return None


def _complete(s: Series) -> None:
    """A grouped series' patches in order, the numbers missing, its change-id and date."""
    s.patches.sort(key=lambda q: q.counter)
    present = {q.counter for q in s.patches}
    s.missing = [i for i in range(1, s.expected + 1) if i not in present] if s.expected > 1 else []
    s.change_id = _change_id(s)
    dates = [m.date for m in ([s.cover] if s.cover else []) + [q.message for q in s.patches] if m and m.date]
    if dates:
        s.date = min(dates, key=_aware)


def _inline_patches(messages: list[Message], covers: list[Message]) -> list[Patch]:
    """The patches replies carry inline."""
    inline: list[Patch] = []
    for m in messages:
        if m.patch is not None or m in covers:
            continue
        text = find_inline_patch(m.body) if m.is_reply else None
        if text and _has_diff(text):
            inline.append(_make_patch(m, text, inline=True))
    return inline


def _attach_reply_trailers(messages: list[Message], covers: list[Message]) -> None:
    """What each reply answers (an inline patch: the patch it revises), and the
    trailers replies give, on their message and on the patch or series they answer."""
    for m in messages:
        target = replied_target(m)
        if isinstance(target, Patch):
            m.replied_patch = target
        if m.patch is not None and m.patch.inline:
            m.patch.revises = target if isinstance(target, Patch) else None
            m.patch.version = m.patch.revises.version if m.patch.revises else 1
        if m.patch is not None or m in covers:
            # A patch's own trailers were read with it; an inline patch's
            # Signed-off-by endorses the inline patch, not the one it answers.
            continue
        try:
            found = reply_trailers(m)
        except Exception:
            m.warnings.append("trailers could not be read")
            continue
        for lt in found:
            t = trailer_from_lore(lt, m, from_reply=True)
            m.trailers.append(t)
            if isinstance(target, Series):
                t.applies_to = "series"
                target.trailers.append(t)
            elif isinstance(target, Patch):
                target.trailers.append(t)


def reply_trailers(m: Message) -> list[_LoreTrailer]:
    """The trailers a reply offers, by liblore's extract_trailers rules (b4's
    follow-up strictness, sender must name himself), applied to the body we already
    decoded: extract_trailers itself would decode the body and re-parse the headers
    of every message once more."""
    if lu.body_has_diff(m.body):
        return [parse_trailer(n, v, msgid=m.msgid, date=m.date)
                for n, v in bodyparts.split_body_parts(m.body).trailers]
    found, _ = bodyparts.find_trailers(m.body, followup=True)
    out = []
    for n, v in found:
        if n.lower() in _REPLY_IGNORES:
            continue
        t = parse_trailer(n, v, msgid=m.msgid, date=m.date)
        if _is_self_attested(t, (m.author_name, m.author_email)):
            out.append(t)
    return out


def _has_diff(text: str) -> bool:
    return lu.body_has_diff(text) and ("\n@@ " in text or "\nGIT binary patch" in text
                                    or "\nBinary files " in text or "\nrename from " in text
                                    or "\nsimilarity index " in text)


def _heads_patches(node: ThreadNode) -> bool:
    return any(n is not node and n.message is not None and not n.by_subject and n.message.subject_info
               and n.message.subject_info.is_patch and not n.message.subject_info.is_reply
               for n in node.walk())


def _new_series(m: Message, title: str) -> Series:
    si = m.subject_info
    return Series(
        title=title, version=si.version if si else 1, expected=si.expected if si else 1,
        author_name=m.author_name, author_email=m.author_email,
        prefixes=si.prefixes if si else (), date=m.date,
    )


def _change_id(s: Series) -> str | None:
    texts = ([s.cover.body] if s.cover else []) + [p.message.body for p in s.patches if p.message]
    for t in texts:
        found = _CHANGE_ID.search(t)
        if found:
            return found.group(1)
    return None


def _link_versions(series: list[Series]) -> None:
    """Several versions of one series in one input: link by change-id, else by
    (author, title)."""
    by_key: dict[tuple, list[Series]] = {}
    for s in series:
        if s.change_id:
            key = ("change-id", s.change_id)
        else:
            key = ("subject", s.author_email.lower(), re.sub(r"\s+", " ", s.title).strip().lower())
        by_key.setdefault(key, []).append(s)
    for key, group in by_key.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda s: (s.version, _aware(s.date)))
        for older, newer in zip(group, group[1:]):
            older.next, newer.previous = newer, older
            newer.linked_by = key[0]  # type: ignore[assignment]


def replied_target(m: Message) -> Patch | Series | None:
    """What a message answers: the nearest patch or cover letter up the reply chain.

    Passing through an absent message (a placeholder) is where archives mislead: a
    reply to an absent patch 05/15 would climb to the cover letter. The subject's
    n/m decides then: it answers patch n, which is returned if present, else None.
    """
    if m.thread is None:
        return None
    si = m.subject_info
    passed_missing = False
    for anc in _ancestors(m.thread):
        am = anc.message
        if am is None:
            passed_missing = True
            continue
        if am.patch is not None and not passed_missing:
            return am.patch
        series = _series_of(am)
        if series is None:
            if am.patch is not None:
                return am.patch
            continue
        if passed_missing and si and si.counter_stated and si.counter > 0:
            for p in series.patches:
                if p.counter == si.counter:
                    return p
            return None
        return am.patch if am.patch is not None else series
    return None


def _series_of(m: Message) -> Series | None:
    if m.patch is not None and m.patch.series is not None:
        return m.patch.series
    return getattr(m, "_cover_of", None)


def mark_covers(series: list[Series]) -> None:
    for s in series:
        if s.cover is not None:
            s.cover._cover_of = s  # type: ignore[attr-defined]
