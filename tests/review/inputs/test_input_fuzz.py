"""Property: malformed mail and diffs never raise anything but InputError."""
from __future__ import annotations

from pathlib import Path

import json

from hypothesis import given
from hypothesis import strategies as st

from mmreview.commands.show import to_json, to_text
from review.errors import InputError
from review.inputs.load import from_mbox_bytes
from review.inputs.patch import parse_diff
from review.inputs.quotes import anchor_comments

FIXTURE = (Path(__file__).resolve().parents[3] / "fixtures" / "mail" / "two-versions.mbox").read_bytes()
LINES = FIXTURE.split(b"\n")

header_names = st.sampled_from([b"From", b"To", b"Cc", b"Subject", b"Date", b"Message-Id", b"In-Reply-To",
                                b"References", b"Content-Type", b"Content-Transfer-Encoding", b"MIME-Version"])
header_values = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"<a@b>", b"<", b"=?utf-8?b?####?=", b"=?x-bad?q?=FF?=", b"text/plain; charset=\"utf-7\"",
                     b"multipart/mixed; boundary=", b"base64", b"quoted-printable", b"[PATCH v2 1/2] x",
                     b"Re: [PATCH 0/0] y", b"Mon, 99 Foo 2026 99:99:99 +9999", b"<a@b> <a@b> <c@d>"]),
)
body_lines = st.one_of(
    st.sampled_from(LINES),
    st.sampled_from([b"diff --git a/x b/x", b"--- a/x", b"+++ b/x", b"@@ -1,3 +1,99 @@", b"@@ -0,0 +0,0 @@",
                     b"> +foo", b">> -bar", b"> [...]", b"...", b"---", b"-- ", b"rename from x", b"\\ No newline",
                     b"GIT binary patch", b"Binary files a/x and b/x differ", b"similarity index 9999%"]),
    st.binary(max_size=30),
)


@st.composite
def messages(draw):
    headers = draw(st.lists(st.tuples(header_names, header_values), max_size=8))
    body = draw(st.lists(body_lines, max_size=25))
    raw = b"\n".join(k + b": " + v for k, v in headers) + b"\n\n" + b"\n".join(body)
    return b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + raw


@given(st.lists(messages(), min_size=1, max_size=4))
def test_generated_mail_never_raises(msgs):
    try:
        coll = from_mbox_bytes(b"\n".join(msgs), "fuzz.mbox")
    except InputError:
        return
    for m in coll.messages:
        assert isinstance(m.body, str)
    # everything shown is encodable text: no surrogate escapes reach a terminal or JSON
    json.dumps(to_json(coll), ensure_ascii=False).encode("utf-8")
    to_text(coll).encode("utf-8")


@given(st.binary(max_size=600))
def test_random_bytes_never_raise(data):
    try:
        from_mbox_bytes(data, "fuzz.bin")
    except InputError:
        pass


@given(st.integers(0, len(FIXTURE)), st.integers(0, 40), st.binary(max_size=20))
def test_mutated_fixture_never_raises(at, cut, junk):
    data = FIXTURE[:at] + junk + FIXTURE[at + cut:]
    try:
        coll = from_mbox_bytes(data, "mutated.mbox")
    except InputError:
        return
    for m in coll.messages:
        anchor_comments(m)  # re-anchoring by hand must not raise either


@given(st.lists(body_lines.map(lambda b: b.decode("utf-8", "replace")), max_size=40))
def test_generated_diffs_never_raise(lines):
    files, warnings = parse_diff("\n".join(lines))
    for f in files:
        for h in f.hunks:
            for ln in h.lines:
                assert ln.old_lineno is not None or ln.new_lineno is not None
