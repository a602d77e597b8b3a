"""Property: malformed mail and diffs never raise anything but InputError
(the generators live in tests/inputs_fuzz/strategies.py)."""
from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from mmreview.commands.show import to_json, to_text
from review.errors import InputError
from review.inputs.load import from_mbox_bytes
from review.inputs.patch import parse_diff
from review.inputs.quotes import anchor_comments
from tests.inputs_fuzz.strategies import body_lines, diff_text, mbox, mutated_fixture


@given(mbox())
def test_generated_mail_never_raises(data):
    try:
        coll = from_mbox_bytes(data, "fuzz.mbox")
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


@given(mutated_fixture())
def test_mutated_fixture_never_raises(data):
    try:
        coll = from_mbox_bytes(data, "mutated.mbox")
    except InputError:
        return
    for m in coll.messages:
        anchor_comments(m)  # re-anchoring by hand must not raise either


@given(st.one_of(st.lists(body_lines.map(lambda b: b.decode("utf-8", "replace")), max_size=40).map("\n".join),
                 diff_text()))
def test_generated_diffs_never_raise(text):
    files, warnings = parse_diff(text)
    for f in files:
        for h in f.hunks:
            for ln in h.lines:
                assert ln.old_lineno is not None or ln.new_lineno is not None
