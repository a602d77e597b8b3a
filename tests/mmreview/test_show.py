"""mmreview show: text and JSON, errors as one line with exit code 2."""
from __future__ import annotations

import json

import pytest

from mmreview.cli import main


def run(capsys, *argv):
    code = main(["show", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_overview_of_the_corpus(capsys, corpus_dir):
    code, out, err = run(capsys, str(corpus_dir / "cow-fixes-part2-v1.mbox"))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].endswith("33 messages, 1 series, 12 patches")
    assert "2022-03-08 14:14 [PATCH v1 00/15] mm: COW fixes part 2: reliable GUP pins of anonymous pages David Hildenbrand" in lines
    assert "2022-03-09 15:47   ` Re: [PATCH v1 10/15] mm/page-flags: reuse PG_slab as PG_anon_exclusive for PageAnon() pages Matthew Wilcox" in lines
    assert any(l.strip() == "` (absent) <20220308141437.144919-6-david@redhat.com>" for l in lines)
    assert "  by David Hildenbrand <david@redhat.com>; 9 of 15 patches, cover letter; absent: 4, 5, 8, 11, 13, 15" in lines
    assert any(l.startswith("  comment include/linux/page-flags.h:") and "PageAnonNotKsm" in l for l in lines)


def test_json_cross_references_resolve(capsys, fixtures_dir):
    code, out, err = run(capsys, str(fixtures_dir / "mail" / "two-versions.mbox"), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "mmreview.show/1" and doc["kind"] == "mail" and doc["duplicates_dropped"] == 1
    msgs = {m["id"] for m in doc["messages"]}
    patches = {p["id"]: p for p in doc["patches"]}
    series = {s["id"]: s for s in doc["series"]}

    def walk(nodes):
        for n in nodes:
            yield n
            yield from walk(n["children"])

    assert {n["id"] for n in walk(doc["threads"]) if not n["missing"]} == msgs
    v1, v2 = doc["series"]
    assert v1["next"] == v2["id"] and v2["previous"] == v1["id"] and v2["linked_by"] == "change-id"
    for s in series.values():
        assert s["cover"] in msgs and all(p in patches for p in s["patches"])
    p1 = patches[v1["patches"][0]]
    assert p1["label"] == "v1 1/2" and p1["message"] == "v1-1-frob@example.org"
    hunk = p1["files"][0]["hunks"][0]
    assert hunk["header"].startswith("@@ -5,6 +5,8 @@") and hunk["lines"][3] == {
        "kind": "added", "old": None, "new": 8, "text": "\tif (PageAnonExclusive(&folio->page))"}
    anchored = [c for c in p1["comments"] if c["anchor"]]
    assert anchored[0]["anchor"] == {
        "patch": p1["id"], "file": "mm/frob.c", "hunk": 0, "hunk_header": hunk["header"], "side": "post",
        "line": 9, "first": {"old": None, "new": 8, "index": 3}, "last": {"old": None, "new": 9, "index": 4},
        "quoted_lines": 2, "exact": False}
    assert anchored[0]["author"] == {"name": "Bo Checker", "email": "bo@example.net"}
    rb = [t for t in p1["trailers"] if t["name"] == "Reviewed-by"][0]
    assert rb["message"] == "bo-review-1@example.net" and rb["from_reply"] and rb["person"]["email"] == "bo@example.net"
    assert v2["trailers"][0]["applies_to"] == "series"


def test_json_of_a_git_range(capsys, tmp_path):
    from tests.review.gitrepo import frob_repo

    r, shas = frob_repo(tmp_path / "r")
    code, out, _ = run(capsys, "-2", "--repo", str(r.path), "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["kind"] == "git" and doc["messages"] == [] and doc["threads"] == []
    # -2 is the last two commits, as `git log -2` counts them: the merge is skipped
    assert [p["commit"] for p in doc["patches"]] == [shas["after"]]
    assert doc["notes"] and "merge" in doc["notes"][0]


def test_mail_text_cannot_drive_the_terminal(capsys, tmp_path):
    evil = ("From: Mallory <m@example.com>\nSubject: hi \x1b[2J\x1b]0;pwned\x07 there\n"
            "Message-Id: <evil@example.com>\n\nbody\n")
    p = tmp_path / "evil.eml"
    p.write_text(evil)
    code, out, _ = run(capsys, str(p))
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "hi \\x1b[2J" in out


@pytest.mark.parametrize("argv, needle", [
    (["/nonexistent.mbox"], "/nonexistent.mbox"),
    (["HEAD~3..HEAD"], "--repo"),
    (["-1", "--repo", "/nonexistent-repo"], "/nonexistent-repo"),
    (["nope..main", "--repo", "."], "nope..main"),
    (["x@y.example", "--lore", "http://127.0.0.1:1/all"], "cannot reach"),
])
def test_errors_are_one_line_exit_2(capsys, tmp_path, monkeypatch, argv, needle):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err and err.startswith("mmreview show: ")


def test_junk_file_is_one_line(capsys, tmp_path):
    p = tmp_path / "junk.bin"
    p.write_bytes(bytes(range(256)) * 8)
    code, out, err = run(capsys, str(p))
    assert code == 2 and str(p) in err and err.count("\n") == 1


def test_replies_to_absent_patches_are_shown(capsys, corpus_dir):
    code, out, _ = run(capsys, str(corpus_dir / "cow-fixes-part2-v1.mbox"))
    tail = out.split("Comments on absent or unidentified patches:\n", 1)[1]
    assert "<D7AB3A84-3FFB-4E8D-9E68-BF721CC4C6FC@vmware.com>" in tail and "Nadav Amit" in tail
    code, out, _ = run(capsys, str(corpus_dir / "cow-fixes-part2-v1.mbox"), "--format", "json")
    doc = json.loads(out)
    nadav = next(m for m in doc["messages"] if m["id"] == "D7AB3A84-3FFB-4E8D-9E68-BF721CC4C6FC@vmware.com")
    assert nadav["answers_patch"] is None and nadav["comments"] and nadav["comments"][0]["anchor"] is None


def test_cover_letter_replies_are_series_comments(corpus_dir):
    from review.inputs.load import load

    c = load(str(corpus_dir / "cow-fixes-part2-v1.mbox"))
    (s,) = c.series
    authors = [x.message.author_name for x in s.comments]
    assert "Linus Torvalds" in authors and "Oded Gabbay" in authors
    assert all(x.anchor is None for x in s.comments)
    assert not any(x in p.comments for p in c.patches for x in s.comments)
