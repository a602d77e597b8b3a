"""Hunks located by context with offsets, as patch(1) does with fuzz 0: where each
lands, what is left out, and the patch's lines against the image's; and the same
results as GNU patch itself on generated files."""
from __future__ import annotations

import difflib
import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from review.extract.apply import LineMap, apply, locate
from review.inputs.patch import parse_diff


def diff(before: list[str], after: list[str], context: int = 3):
    text = "\n".join(difflib.unified_diff(before, after, "a/f.c", "b/f.c", n=context, lineterm=""))
    (fd,), _ = parse_diff(text + "\n")
    return fd.hunks


def lines(n: int, tag: str = "l") -> list[str]:
    return [f"{tag}{i}" for i in range(1, n + 1)]


def test_a_hunk_where_its_header_says():
    base = lines(20)
    after = base[:9] + ["new"] + base[10:]
    out = apply("\n".join(base), diff(base, after))
    assert out.text == "\n".join(after)
    (p,) = out.placements
    assert (p.pre_offset, p.post_offset, p.pre_start) == (0, 0, 7)


def test_offsets_forward_and_back_and_carried_to_the_next_hunk():
    written = lines(40)
    after = written[:9] + ["A"] + written[10:29] + ["B"] + written[30:]
    hunks = diff(written, after)
    assert len(hunks) == 2
    moved = ["x1", "x2", "x3", "x4", "x5"] + written          # 5 lines more above both
    out = apply("\n".join(moved), hunks)
    assert [p.pre_offset for p in out.placements] == [5, 5]
    assert out.text == "\n".join(moved[:5] + after)
    fewer = written[3:]                                         # 3 lines fewer above
    out = apply("\n".join(fewer), hunks)
    assert [p.pre_offset for p in out.placements] == [-3, -3]


def test_the_nearest_match_wins_and_after_before_before():
    block = ["a", "b", "c", "X", "d", "e", "f"]
    text = ["z"] * 10 + block + ["z"] * 4 + block + ["z"] * 10
    assert locate(text, block, 12, 0) == 10        # the nearer copy, 2 before
    assert locate(text, block, 19, 0) == 21        # 2 after beats 9 before
    assert locate(text, block, 15, 0) == 10        # 5 before beats 6 after
    assert locate(text, block, 16, 0) == 21        # 5 after, tried before 6 before


def test_a_hunk_never_lands_before_the_previous_one():
    assert locate(["a", "b", "a", "b"], ["a", "b"], 0, 1) == 2
    assert locate(["a", "b", "c"], ["a", "b"], 0, 1) is None


def test_a_hunk_not_found_is_left_out_and_the_others_apply():
    written = lines(40)
    after = written[:9] + ["A"] + written[10:29] + ["B"] + written[30:]
    hunks = diff(written, after)
    changed = written[:8] + ["someone else's line"] + written[9:]
    out = apply("\n".join(changed), hunks)
    assert out.placements[0] is None and out.placements[1].pre_offset == 0
    assert "A" not in out.text.split("\n") and "B" in out.text.split("\n")


def test_hunks_at_the_start_and_the_end_of_a_file_stay_there():
    written = ["s1", "s2"] + lines(20)
    start = diff(written, ["new"] + written)                   # less context above than below
    assert locate(["q"] + written, ["s1", "s2", "l1"], 0, 0, "start") is None
    assert apply("\n".join(["q"] + written), start).placements == [None]
    assert apply("\n".join(written), start).placements[0].pre_offset == 0
    end = diff(written, written + ["tail"])                    # less context below than above
    assert apply("\n".join(written + ["more"]), end).placements == [None]
    assert apply("\n".join(written), end).text.split("\n")[-1] == "tail"


def test_line_maps_between_image_and_patch():
    written = lines(40)
    after = written[:9] + ["A"] + written[10:29] + ["B", "B2"] + written[30:]
    hunks = diff(written, after)
    out = apply("\n".join(["x"] * 5 + written), hunks)
    pre, post = LineMap("pre", out.placements, hunks), LineMap("post", out.placements, hunks)
    assert pre.to_patch(15) == 10 and pre.to_patch(35) == 30 and pre.to_patch(1) == 1
    assert post.to_patch(36) == 31
    assert pre.hunk_of(15) == hunks[0].header and pre.hunk_of(25) == ""
    same = LineMap("pre", None, hunks)
    assert same.to_patch(15) == 15 and same.hunk_of(10) == hunks[0].header


# ---------------------------------------------------------------- against GNU patch

_WORDS = st.sampled_from(["{", "}", "\treturn 0;", "", "\tx++;", "\tif (a)", "\t\tgoto out;", "out:"])


@st.composite
def patched_files(draw):
    """(the file a patch is applied to, the file it was written against, what its
    author made of that): the two files differ by lines added or dropped."""
    written = draw(st.lists(_WORDS, min_size=4, max_size=40))
    edited = list(written)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(edited)))
        if draw(st.booleans()) and at < len(edited):
            del edited[at]
        else:
            edited.insert(at, draw(st.sampled_from(["\tnew();", "\tother();"])))
    target = list(written)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(target)))
        if draw(st.booleans()) and at < len(target):
            del target[at]
        else:
            target.insert(at, draw(_WORDS))
    return target, written, edited


def gnu_patch(tmp_path, target: list[str], diff_text: str) -> tuple[str, list[int | None]]:
    (tmp_path / "f.c").write_text("\n".join(target) + "\n")
    (tmp_path / "p.diff").write_text(diff_text)
    res = subprocess.run(["patch", "-F0", "-f", "--no-backup-if-mismatch", "-r", "-",
                          "-o", "out.c", "f.c", "p.diff"], cwd=tmp_path, capture_output=True, text=True)
    report = res.stdout + res.stderr
    out = (tmp_path / "out.c").read_text() if (tmp_path / "out.c").exists() else ""
    failed = {int(m) for m in re.findall(r"Hunk #(\d+) FAILED", report)}
    offsets = {int(h): int(o)
               for h, o in re.findall(r"Hunk #(\d+) succeeded at \d+ (?:with fuzz \d+ )?\(offset (-?\d+) lines?\)", report)}
    return out, failed, offsets


@pytest.mark.skipif(shutil.which("patch") is None, reason="GNU patch is not installed")
@settings(max_examples=60, deadline=None)
@given(patched_files())
def test_the_same_as_gnu_patch_with_fuzz_0(tmp_path_factory, files):
    target, written, edited = files
    if written == edited:
        return
    tmp = tmp_path_factory.mktemp("p")
    text = "".join(difflib.unified_diff([w + "\n" for w in written], [e + "\n" for e in edited],
                                        "a/f.c", "b/f.c", n=3))
    (fd,), _ = parse_diff(text)
    out, failed, offsets = gnu_patch(tmp, target, text)
    ours = apply("\n".join(target) + "\n", fd.hunks)
    assert {i + 1 for i, p in enumerate(ours.placements) if p is None} == failed
    for i, p in enumerate(ours.placements):
        if p is not None:
            assert p.pre_offset == offsets.get(i + 1, 0), (i + 1, offsets)
    assert ours.text == out
