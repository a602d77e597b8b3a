"""A thread as lore's thread overview lists it: every message in reply order with its
depth, the patches of a series in their order, and the patches the input lacks
under their titles.

An archive often lacks some patches of a series (lore had them; a saved copy may
not). Replies to an absent patch still hang under a placeholder (review.inputs.
series builds the tree); here the placeholder learns which patch it is from its
replies' subjects, and its title from the cover letter's shortlog (`Author (N):`
and one title per patch, as `git format-patch --cover-letter` writes it). An absent
patch that nobody answered is listed too, in its place, when the shortlog names it.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from review.model import Message, Series, ThreadNode

_SHORTLOG_HEAD = re.compile(r"^(\S.*\S) \((\d+)\):$")
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


@dataclass(eq=False)
class Entry:
    """One line of the overview. `message` is None for an absent message; `counter`
    and `title` say which patch of the series an absent one is (0 when unknown)."""
    depth: int
    node: ThreadNode | None
    message: Message | None
    counter: int = 0
    title: str = ""

    @property
    def missing(self) -> bool:
        return self.message is None


def _norm(title: str) -> str:
    return " ".join(title.split()).lower()


def _shortlog_blocks(body: str) -> list[tuple[int, list[str]]]:
    """Each `Author (N):` block of a cover letter: (N, the titles under it)."""
    blocks: list[tuple[int, list[str]]] = []
    titles: list[str] | None = None
    for line in body.split("\n"):
        head = _SHORTLOG_HEAD.match(line)
        if head:
            titles = []
            blocks.append((int(head.group(2)), titles))
        elif titles is not None and line.startswith("    ") and titles:
            titles[-1] += " " + line.strip()        # a wrapped title goes on
        elif titles is not None and line.startswith("  ") and line.strip():
            titles.append(line.strip())
        else:
            titles = None
    return blocks


def cover_titles(series: Series) -> dict[int, str]:
    """Patch titles by counter, as the cover letter's shortlog lists them; {} when
    it lists them in an order that is not the series' (several authors) or does not
    agree with the patches present."""
    if series.cover is None:
        return {}
    blocks = _shortlog_blocks(series.cover.body)
    if len(blocks) != 1 or blocks[0][0] != series.expected or len(blocks[0][1]) != series.expected:
        return {}
    titles = {i: t for i, t in enumerate(blocks[0][1], 1)}
    if any(_norm(titles[p.counter]) != _norm(p.title) for p in series.patches if p.counter in titles):
        return {}
    return titles


def placeholder_counter(node: ThreadNode, series: Series) -> int:
    """Which patch of `series` an absent message is, by the subjects of the replies
    to it (`Re: [PATCH v1 05/15] ...`); 0 when they do not say."""
    for child in node.children:
        si = child.message.subject_info if child.message is not None else None
        if si and si.counter_stated and si.counter > 0 and si.version == series.version \
                and si.expected == series.expected:
            return si.counter
    return 0


def _reply_title(node: ThreadNode) -> str:
    for child in node.children:
        if child.message is not None and child.message.subject_info is not None:
            return child.message.subject_info.title
    return ""


def _date(node: ThreadNode) -> tuple:
    """Date order of a node; a placeholder by its earliest present descendant."""
    dates = [(n.message.date if n.message.date.tzinfo else n.message.date.replace(tzinfo=_dt.timezone.utc),
              n.message.index) for n in node.walk() if n.message is not None and n.message.date]
    return min(dates) if dates else (_EPOCH, 0)


def _patch_counter(node: ThreadNode, series: Series | None) -> int:
    if series is None:
        return 0
    msg = node.message
    if msg is None:
        return placeholder_counter(node, series)
    if msg.patch is not None and msg.patch.series is series:
        return msg.patch.counter
    return 0


def _children(node: ThreadNode, series: Series | None) -> list[tuple[int, ThreadNode | None]]:
    """The children of `node` with their patch counter (0: not a patch of `series`):
    patches first in series order, the absent ones the cover letter names among
    them when `node` is the cover letter, then the rest by date."""
    kids = [(_patch_counter(c, series), c) for c in node.children]
    patches = sorted(((n, c) for n, c in kids if n), key=lambda nc: nc[0])
    rest = sorted(((n, c) for n, c in kids if not n), key=lambda nc: _date(nc[1]))
    if series is not None and series.cover is not None and node.message is series.cover:
        present = {n for n, _ in patches}
        titles = cover_titles(series)
        patches += [(n, None) for n in titles if n not in present]
        patches.sort(key=lambda nc: nc[0])
    return patches + rest


def entries(root: ThreadNode, series: Series | None = None) -> list[Entry]:
    """The overview of the thread under `root`, whose patches belong to `series`."""
    titles = cover_titles(series) if series is not None else {}
    out: list[Entry] = []

    def walk(node: ThreadNode | None, depth: int, counter: int) -> None:
        if node is None:
            out.append(Entry(depth, None, None, counter, titles.get(counter, "")))
            return
        title = ""
        if node.message is None and counter:
            title = titles.get(counter) or _reply_title(node)
        out.append(Entry(depth, node, node.message, counter if node.message is None else 0, title))
        for n, child in _children(node, series):
            walk(child, depth + 1, n)

    walk(root, 0, 0)
    return out
