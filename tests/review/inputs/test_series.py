"""Series: subjects, cover letters, versions, trailers with their source."""
from __future__ import annotations

import pytest

from review.inputs.load import load
from review.inputs.mail import subject_info


@pytest.mark.parametrize("subject, version, counter, expected, prefixes, cover", [
    ("[PATCH v2 03/15] mm: x", 2, 3, 15, (), False),
    ("[RFC PATCH] mm: x", 1, None, None, ("RFC",), False),
    ("[PATCHv3 1/2] mm: x", 3, 1, 2, (), False),
    ("[PATCH RESEND] mm: x", 1, None, None, ("RESEND",), False),
    ("[PATCH v4 0/7] mm: x", 4, 0, 7, (), True),
    ("Re: [PATCH v2 03/15] mm: x", 2, 3, 15, (), False),
    ("[RFC PATCH net-next v5 2/9] mm: x", 5, 2, 9, ("RFC", "net-next"), False),
])
def test_subject_shapes(subject, version, counter, expected, prefixes, cover):
    si = subject_info(subject)
    assert si.is_patch and si.title == "mm: x"
    assert si.version == version and si.prefixes == prefixes and si.is_cover == cover
    if counter is None:
        assert not si.counter_stated
    else:
        assert (si.counter, si.expected) == (counter, expected) and si.counter_stated
    assert si.is_reply == subject.startswith("Re:")


def test_two_versions_linked_by_change_id(fixtures_dir):
    c = load(str(fixtures_dir / "mail" / "two-versions.mbox"))
    v1, v2 = c.series
    assert (v1.version, v2.version) == (1, 2)
    assert v1.change_id == v2.change_id == "20260105-frob-exclusive-1a2b3c"
    assert v1.next is v2 and v2.previous is v1 and v2.linked_by == "change-id"
    assert v1.cover.msgid == "v1-0-frob@example.org" and v2.cover.msgid == "v2-0-frob@example.org"
    assert [p.message.msgid for p in v1.patches] == ["v1-1-frob@example.org", "v1-2-frob@example.org"]
    assert [p.label for p in v2.patches] == ["v2 1/2", "v2 2/2"]
    assert c.patches == v1.patches + v2.patches


def test_trailers_keep_their_source(fixtures_dir):
    c = load(str(fixtures_dir / "mail" / "two-versions.mbox"))
    v1, v2 = c.series
    p1 = v1.patches[0]
    rb = [t for t in p1.trailers if t.name == "Reviewed-by"]
    assert len(rb) == 1 and rb[0].from_reply and rb[0].message.msgid == "bo-review-1@example.net"
    assert rb[0].person_email == "bo@example.net" and rb[0].kind == "person"
    sob = [t for t in p1.trailers if t.name == "Signed-off-by"]
    assert sob[0].message is p1.message and not sob[0].from_reply
    # in v2 the Reviewed-by is part of the patch itself
    v2rb = [t for t in v2.patches[0].trailers if t.name == "Reviewed-by"]
    assert v2rb and not v2rb[0].from_reply
    # an Acked-by on the cover letter applies to the whole series
    (ack,) = v2.trailers
    assert ack.name == "Acked-by" and ack.applies_to == "series" and ack.message.msgid == "cy-ack@example.com"
    assert not any(t.name == "Acked-by" for p in v2.patches for t in p.trailers)
    # Ada's own answer offers no trailer
    assert c.message("ada-answer-1@example.org").trailers == []


def test_unthreaded_series_grouped_under_its_cover(fixtures_dir):
    c = load(str(fixtures_dir / "mail" / "unthreaded.mbox"))
    rfc = next(s for s in c.series if s.is_rfc)
    assert rfc.cover.msgid == "rfc-0@example.org"
    assert [p.message.msgid for p in rfc.patches] == ["rfc-1@example.org", "rfc-2@example.org"]
    assert rfc.missing == []
    cover_node = rfc.cover.thread
    assert [n.msgid for n in cover_node.children] == ["rfc-1@example.org", "rfc-2@example.org"]
    assert all(n.by_subject for n in cover_node.children)
    # the reply without threading headers found its patch by subject
    bo = c.message("bo-rfc-2@example.net")
    assert bo.thread.parent.msgid == "rfc-2@example.org" and bo.thread.by_subject
    assert bo.replied_patch is rfc.patches[1]


def test_versions_linked_by_subject_and_author(fixtures_dir):
    c = load(str(fixtures_dir / "mail" / "unthreaded.mbox"))
    singles = [s for s in c.series if not s.is_rfc]
    assert [(s.version, s.prefixes) for s in singles] == [(1, ()), (2, ()), (2, ("RESEND",)), (3, ())]
    chain = [singles[0]]
    while chain[-1].next is not None:
        chain.append(chain[-1].next)
    assert chain == singles
    assert all(s.linked_by == "subject" for s in singles[1:])
    assert singles[3].patches[0].label == "v3"


def test_reply_trailers_need_the_senders_own_name(fixtures_dir, tmp_path):
    """b4's rule via liblore: a reply's person trailer counts only if its sender wrote it for himself."""
    mbox = (fixtures_dir / "mail" / "two-versions.mbox").read_text()
    forged = mbox.replace("Reviewed-by: Bo Checker <bo@example.net>\n\n", "Reviewed-by: Someone Else <else@example.com>\n\n", 1)
    p = tmp_path / "forged.mbox"
    p.write_text(forged)
    c = load(str(p))
    p1 = c.series[0].patches[0]
    assert not any(t.from_reply for t in p1.trailers)


def test_deep_threaded_series_without_cover(fixtures_dir, tmp_path):
    """git send-email --chain-reply-to: 2/2 answers 1/2, no cover letter."""
    text = (fixtures_dir / "mail" / "two-versions.mbox").read_text()
    chunks = text.split("From mboxrd@z Thu Jan  1 00:00:00 1970\n")[1:]
    p1 = chunks[1].replace("In-Reply-To: <v1-0-frob@example.org>\nReferences: <v1-0-frob@example.org>\n", "")
    p2 = chunks[2].replace("In-Reply-To: <v1-0-frob@example.org>", "In-Reply-To: <v1-1-frob@example.org>")
    p2 = p2.replace("References: <v1-0-frob@example.org>", "References: <v1-1-frob@example.org>")
    path = tmp_path / "deep.mbox"
    path.write_text("\n\n" + "".join("From mboxrd@z Thu Jan  1 00:00:00 1970\n" + c for c in (p2, p1)))
    c = load(str(path))
    (s,) = c.series
    assert [p.message.msgid for p in s.patches] == ["v1-1-frob@example.org", "v1-2-frob@example.org"]
    assert s.cover is None and s.missing == []
