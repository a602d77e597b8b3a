"""The thread pane: each series version, its cover letter, patches and replies as a
tree in reply order (lore's thread overview), with the reviewer's marks.

Marks: ✓ reviewed, – skipped, ✎ has draft comments, ! has findings. Absent messages
(answered or referenced but not in the input) show dimmed, as lore does.
"""
from __future__ import annotations

from rich.text import Text
from textual.message import Message as TMessage
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from review.model import Message, ThreadNode
from tui.literal import printable
from tui.session import ReviewSession

MARKS = {"reviewed": ("✓", "green"), "skipped": ("–", "yellow")}


class ThreadPane(Tree[Message | None]):
    """Series > threads > messages. Moving the cursor shows the message."""

    BORDER_TITLE = "Thread"

    class Shown(TMessage):
        def __init__(self, message: Message) -> None:
            super().__init__()
            self.message = message

    def __init__(self, session: ReviewSession, **kw) -> None:
        super().__init__("thread", **kw)
        self.session = session
        self.show_root = False
        self.guide_depth = 2
        # clicking a message shows it; it must not fold away its replies
        self.auto_expand = False
        self._by_msgid: dict[str, TreeNode] = {}
        self._group_of: dict[int, object] = {}

    def on_mount(self) -> None:
        self.rebuild()

    # ----------------------------------------------------------------- building
    def rebuild(self) -> None:
        self.clear()
        self._by_msgid.clear()
        self._group_of.clear()
        for group in self.session.groups():
            top = self.root.add(self._group_label(group), data=None, expand=True)
            self._group_of[top.id] = group
            for thread in group.threads:
                self._add_thread(top, thread)
        self.root.expand()

    def _group_label(self, group) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(printable(group.label), style="bold")
        if group.series is not None:
            c = self.session.state.counts(group.series.patches)
            done = c["reviewed"] + c["skipped"]
            t.append(f"  {done}/{len(group.series.patches)}", style="dim")
        return t

    def _add_thread(self, parent: TreeNode, node: ThreadNode) -> None:
        label = self.label_for(node)
        if node.children:
            tn = parent.add(label, data=node.message, expand=True)
            for child in node.children:
                self._add_thread(tn, child)
        else:
            tn = parent.add_leaf(label, data=node.message)
        if node.message is not None:
            self._by_msgid[node.message.msgid] = tn

    def label_for(self, node: ThreadNode) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        msg = node.message
        if msg is None:
            t.append(printable(f"({node.msgid[:28]} not in this input)"), style="dim italic")
            return t
        patch = msg.patch
        if patch is not None and not patch.inline:
            review = self.session.state.review(patch)
            sym, colour = MARKS.get(review.mark, (" ", ""))
            # three fixed columns: mark, draft comments, findings
            t.append(sym, style=colour)
            t.append("✎" if review.comments else " ", style="magenta")
            t.append("!" if self.session.findings_for(patch) else " ", style="bold red")
            counter = "0" if (msg.subject_info and msg.subject_info.is_cover) else str(patch.counter)
            t.append(f"{counter}/{patch.expected} ", style="bold")
            t.append(printable(patch.title))
        elif msg.subject_info is not None and msg.subject_info.is_cover and not msg.is_reply:
            t.append("  0/%d " % msg.subject_info.expected, style="bold")
            t.append(printable(msg.subject_info.title))
        else:
            t.append(printable(msg.author_name or msg.author_email), style="cyan")
            n = sum(1 for c in msg.comments if c.anchor is not None)
            if n:
                t.append(f" ({n} inline)", style="dim")
            if msg.trailers:
                t.append(" " + printable(", ".join(sorted({tr.name for tr in msg.trailers}))), style="green")
        return t

    def refresh_labels(self) -> None:
        for msgid, tn in self._by_msgid.items():
            msg = tn.data
            if msg is not None and msg.thread is not None:
                tn.set_label(self.label_for(msg.thread))
        for tn in self.root.children:
            group = self._group_of.get(tn.id)
            if group is not None:
                tn.set_label(self._group_label(group))

    # ----------------------------------------------------------------- navigation
    def select_message(self, msg: Message) -> None:
        tn = self._by_msgid.get(msg.msgid)
        if tn is None:
            return
        parent = tn.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self.move_cursor(tn)
        self.scroll_to_node(tn, animate=False)

    @property
    def current(self) -> Message | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Shown(event.node.data))
