"""What one TUI session looks at: the loaded Collection, the reviewer's ReviewState,
and the analysis results (extraction, findings) gathered so far.

Only glue: reading input is review.inputs.load, extraction and checking are
review.check.run (as `mmreview check` does them); this module orders what they return
for display and caches it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from review.errors import InputError
from review.inputs.quotes import anchor_quote
from review.model import Collection, Message, Patch, Series, ThreadNode, patch_key
from review.report.types import CheckFinding, PatchResult
from review.reviewer.export import quote_body
from review.reviewer.results import FindingsStore, results_path
from review.reviewer.state import ReviewState

if TYPE_CHECKING:   # the extractor is loaded with the first patch, not at start-up
    from review.extract.rules import PatchRules


@dataclass
class Group:
    """A top-level entry of the thread pane: one series version, or the rest."""
    label: str
    series: Series | None
    threads: list[ThreadNode] = field(default_factory=list)


@dataclass
class ReplyDraft:
    """What `o` (or `E`) edits for a message: its title, text so far, and where it goes."""
    title: str
    text: str
    save: Callable[[str], None]


def _subtree_msgids(node: ThreadNode) -> set[str]:
    return {n.msgid for n in node.walk() if n.message is not None}


def _version_order(collection: Collection) -> list[Series]:
    """Series by chain (v1, v2, ... of one series together), chains in input order."""
    seen: set[int] = set()
    out: list[Series] = []
    for s in collection.series:
        if id(s) in seen:
            continue
        first = s
        while first.previous is not None and id(first.previous) not in seen:
            first = first.previous
        cur: Series | None = first
        while cur is not None and id(cur) not in seen:
            seen.add(id(cur))
            out.append(cur)
            cur = cur.next
    return out


def _commit_message(patch: Patch) -> Message:
    """A display-only Message for a git commit (git input has no mail): the thread
    pane and message pane show commits like patch mails. Not added to the
    Collection; patch.message stays None (there is no mail to answer)."""
    short = (patch.commit or "")[:12]
    msg = Message(msgid=f"{patch.commit}@git.invalid", subject=f"[{short}] {patch.title}",
                  author_name=patch.author_name, author_email=patch.author_email, date=patch.date,
                  body=patch.commit_message)
    msg.patch = patch
    return msg


class ReviewSession:
    def __init__(self, collection: Collection, state: ReviewState, tree: str | None = None) -> None:
        self.collection = collection
        self.state = state
        self.tree = tree            # the kernel tree extraction takes whole functions from
        self._commit_msgs: dict[int, Message] = {}
        if collection.kind == "git" or (not collection.messages and collection.patches):
            for p in collection.patches:
                if p.message is None:
                    self._commit_msgs[id(p)] = _commit_message(p)
        self._groups = self._build_groups()
        self.messages: list[Message] = [n.message for g in self._groups for t in g.threads
                                        for n in t.walk() if n.message is not None]
        order = {m.msgid: i for i, m in enumerate(self.messages)}
        self.patches: list[Patch] = sorted(
            (p for p in collection.patches if self.message_for(p) is not None
             and self.message_for(p).msgid in order),
            key=lambda p: order[self.message_for(p).msgid])
        # findings so far and completed checks by patch key, as a previous session left them
        self.store = FindingsStore(results_path(state.path))
        self.findings: dict[str, list[CheckFinding]]
        self.results: dict[str, PatchResult]
        self.findings, self.results = self.store.restore(self.patches)
        # patch key -> (rules, "") or (None, why extraction failed)
        self.extractions: dict[str, tuple[PatchRules | None, str]] = {}
        self._revision_cache: dict = {}
        # extraction runs in worker threads (the spec pane's, the fuzzer's): one at a time
        self._extracting = threading.Lock()

    # ---------------------------------------------------------------- thread layout
    def _build_groups(self) -> list[Group]:
        roots = list(self.collection.threads)
        taken: set[int] = set()
        groups: list[Group] = []
        for s in _version_order(self.collection):
            prefix = " ".join(s.prefixes)
            label = f"v{s.version}{' ' + prefix if prefix else ''}: {s.title}"
            g = Group(label, s)
            ids = {p.message.msgid for p in s.patches if p.message is not None}
            if s.cover is not None:
                ids.add(s.cover.msgid)
            for i, r in enumerate(roots):
                if i not in taken and _subtree_msgids(r) & ids:
                    g.threads.append(r)
                    taken.add(i)
            groups.append(g)
        rest = [r for i, r in enumerate(roots) if i not in taken]
        if rest:
            groups.append(Group("Other messages" if groups else "Messages", None, rest))
        if self._commit_msgs:
            nodes = []
            for p in self.collection.patches:
                msg = self._commit_msgs.get(id(p))
                if msg is not None:
                    node = ThreadNode(msg.msgid, msg)
                    msg.thread = node
                    nodes.append(node)
            label = f"{self.collection.source} ({len(nodes)} commit{'s' if len(nodes) != 1 else ''})"
            groups = [g for g in groups if g.threads] + [Group(label, None, nodes)]
        return [g for g in groups if g.threads] or groups[:1]

    def reply_draft(self, msg: Message) -> ReplyDraft:
        """A patch's reply note (above its quoted hunks); the reply to a cover letter;
        else a free-text reply to `msg`, which starts as the quoted message."""
        state = self.state
        if msg.patch is not None:
            patch = msg.patch
            return ReplyDraft(f"Note for the reply to {patch.label} (above the quoted hunks)",
                              state.review(patch).note, lambda text: state.set_note(patch, text))
        series = self.series_of(msg)
        if series is not None and series.cover is msg:
            return ReplyDraft(f"Reply to the cover letter of v{series.version} (quotes you keep stay)",
                              state.series_notes.get(msg.msgid) or quote_body(msg),
                              lambda text: state.set_series_note(msg.msgid, text))
        who = msg.author_name or msg.author_email
        return ReplyDraft(f"Reply to {who} (quotes you keep stay)",
                          state.replies.get(msg.msgid) or quote_body(msg),
                          lambda text: state.set_reply(msg.msgid, text))

    def has_draft(self, msg: Message) -> bool:
        """Whether the reviewer wrote a reply to `msg` (for a patch: its note)."""
        state = self.state
        if msg.patch is not None:
            return bool(state.review(msg.patch).note.strip())
        return bool(state.replies.get(msg.msgid, "").strip() or state.series_notes.get(msg.msgid, "").strip())

    def message_for(self, patch: Patch) -> Message | None:
        """The mail that carries the patch, or the display message of a commit."""
        return patch.message if patch.message is not None else self._commit_msgs.get(id(patch))

    def groups(self) -> list[Group]:
        return self._groups

    def revision_comments(self, patch: Patch) -> list:
        """Comments on inline revisions of `patch` (a reply that posts a reworked
        version, as on linux-mm), placed on `patch`'s own lines where the quoted
        lines match (review.inputs.quotes does the matching): [(comment, diff line)]."""
        key = ("rev", patch_key(patch))
        if key in self._revision_cache:
            return self._revision_cache[key]
        out = []
        for rev in (p for p in self.collection.patches if p.revises is patch):
            for c in rev.comments:
                if c.anchor is None or not c.quoted:
                    continue
                a = anchor_quote(c.quoted, patch)
                if a is not None:
                    out.append((c, a.last))
        self._revision_cache[key] = out
        return out

    # ---------------------------------------------------------------- analysis
    def rules(self, patch: Patch) -> tuple[PatchRules | None, str]:
        """The patch's extracted rules, or None and why not, extracted once per session
        the way `mmreview check` extracts them. Slow the first time: call it from a
        worker thread, never from the UI's."""
        key = patch_key(patch)
        with self._extracting:
            if key not in self.extractions:
                # start-up: review.check brings the extractor (tree-sitter), the spec and
                # hypothesis, 0.1-0.2 s that the first screen (often a cover letter) need not wait for
                from review.check.run import extract_patches
                try:
                    self.extractions[key] = extract_patches([patch], self.tree)[0]
                except InputError as exc:   # e.g. an unreadable --tree
                    self.extractions[key] = (None, str(exc))
            return self.extractions[key]

    def extracted(self, patch: Patch) -> bool:
        return patch_key(patch) in self.extractions

    # ---------------------------------------------------------------- lookups
    def findings_for(self, patch: Patch) -> list[CheckFinding]:
        return self.findings.get(patch_key(patch), [])

    def record(self, patch: Patch, findings: list[CheckFinding], result: PatchResult | None) -> None:
        """A check of `patch` ended (`result`) or stopped (None): kept for this session
        and the next one on the same input."""
        self.findings[patch_key(patch)] = list(findings)
        if result is not None:
            self.results[patch_key(patch)] = result
        try:
            self.store.put(patch, findings, result)
        except OSError as exc:      # the findings stay on screen; only the next session loses them
            self.state.warnings.append(f"{self.store.path}: findings not kept ({exc.strerror or exc})")

    def serious_findings(self, patch: Patch) -> list[CheckFinding]:
        """The errors and warnings of `patch`: what marks it and what `!` visits."""
        return [f for f in self.findings_for(patch) if getattr(f, "severity", "warning") != "note"]

    def series_of(self, msg: Message) -> Series | None:
        if msg.patch is not None and msg.patch.series is not None:
            return msg.patch.series
        for s in self.collection.series:
            if s.cover is msg:
                return s
        p = msg.replied_patch
        return p.series if p is not None else None

    def patch_of(self, msg: Message | None) -> Patch | None:
        """The patch a message is about: the one it carries, else the one it answers."""
        if msg is None:
            return None
        if msg.patch is not None:
            return msg.patch
        return msg.replied_patch

    def next_message(self, msg: Message | None, step: int) -> Message | None:
        if not self.messages:
            return None
        if msg is None or msg not in self.messages:
            return self.messages[0]
        i = self.messages.index(msg) + step
        return self.messages[i] if 0 <= i < len(self.messages) else None

    def next_patch(self, msg: Message | None, step: int) -> Patch | None:
        mail_patches = [p for p in self.patches if not p.inline]
        if not mail_patches:
            return None
        current = self.patch_of(msg)
        if current is None or current not in mail_patches:
            # from a cover letter or a stray reply: the first patch after it
            if msg is not None and msg in self.messages:
                pos = self.messages.index(msg)
                cands = [p for p in mail_patches
                         if self.messages.index(self.message_for(p)) * step > pos * step]
                return cands[0] if step > 0 and cands else (cands[-1] if cands else None)
            return mail_patches[0]
        i = mail_patches.index(current) + step
        return mail_patches[i] if 0 <= i < len(mail_patches) else None
