"""Patch bodies and unified diffs."""
from __future__ import annotations

import io

from review.inputs.load import load
from review.inputs.patch import find_inline_patch, parse_diff, split_patch_body

DIFF = """\
diff --git a/mm/frob.c b/mm/frob.c
index 1111111..2222222 100644
--- a/mm/frob.c
+++ b/mm/frob.c
@@ -5,6 +5,8 @@ static bool frob_can_reuse(struct folio *folio)
 {
 \tif (folio_test_ksm(folio))
 \t\treturn false;
+\tif (PageAnonExclusive(&folio->page))
+\t\treturn true;
 \tif (folio_ref_count(folio) > 1)
 \t\treturn false;
 \treturn true;
@@ -20,4 +22,3 @@ int frob_wp_fault(struct vm_fault *vmf)
 \t\treturn 0;
 \t}
-\tfrob_log(vmf);
 \treturn frob_copy(vmf);
diff --git a/mm/old.c b/mm/gone.c
similarity index 100%
rename from mm/old.c
rename to mm/gone.c
diff --git a/mm/frob.bin b/mm/frob.bin
new file mode 100644
index 0000000..3333333
Binary files /dev/null and b/mm/frob.bin differ
diff --git a/mm/dead.c b/mm/dead.c
deleted file mode 100644
index 4444444..0000000
--- a/mm/dead.c
+++ /dev/null
@@ -1,2 +0,0 @@
-int dead;
-int deader;
"""


def test_line_maps():
    files, warnings = parse_diff(DIFF)
    assert warnings == []
    frob, ren, binf, dead = files
    h0, h1 = frob.hunks
    assert (h0.old_start, h0.old_count, h0.new_start, h0.new_count) == (5, 6, 5, 8)
    assert h0.section == "static bool frob_can_reuse(struct folio *folio)"
    assert [ln.new_lineno for ln in h0.added] == [8, 9]
    assert all(ln.old_lineno is None for ln in h0.added)
    assert h0.pre_lines[8] == "\tif (folio_ref_count(folio) > 1)"
    assert h0.post_lines[10] == "\tif (folio_ref_count(folio) > 1)"
    assert h0.post_lines[8] == "\tif (PageAnonExclusive(&folio->page))"
    (removed,) = h1.removed
    assert (removed.old_lineno, removed.new_lineno, removed.text) == (22, None, "\tfrob_log(vmf);")
    assert h1.post_lines == {22: "\t\treturn 0;", 23: "\t}", 24: "\treturn frob_copy(vmf);"}
    assert (ren.status, ren.old_path, ren.new_path, ren.similarity, ren.hunks) == ("renamed", "mm/old.c", "mm/gone.c", 100, [])
    assert binf.is_binary and binf.status == "added" and binf.new_path == "mm/frob.bin"
    assert (dead.status, dead.old_path, dead.new_path, dead.removed_count) == ("deleted", "mm/dead.c", None, 2)


def test_hunk_whose_counts_lie_keeps_its_lines_with_a_warning(fixtures_dir):
    c = load(str(fixtures_dir / "mail" / "lying-hunk.patch"))
    (p,) = c.patches
    hdr, frob = p.files
    (h,) = hdr.hunks
    assert h.warnings and "counts -7 +9" in h.warnings[0]
    assert [ln.text for ln in h.added] == ["bool frob_can_share(struct page *page);"]
    assert h.added[0].new_lineno == 7
    # the next file is intact
    assert frob.path == "mm/frob.c" and len(frob.hunks[0].added) == 4 and not frob.hunks[0].warnings
    assert any("counts" in w for w in c.messages[0].warnings)


def test_counts_that_lie_short_do_not_swallow_the_next_file():
    diff = DIFF.replace("@@ -20,4 +22,3 @@", "@@ -20,2 +22,1 @@")
    files, warnings = parse_diff(diff)
    assert [f.path for f in files] == ["mm/frob.c", "mm/gone.c", "mm/frob.bin", "mm/dead.c"]
    assert len(files[0].hunks[1].lines) == 4 and warnings


def test_body_split():
    body = ("Why it is needed.\n\nSigned-off-by: A <a@example.org>\n---\nv2: rebased\n\n"
            " mm/frob.c | 2 ++\n\n" + DIFF + "-- \n2.39.5\n")
    parts = split_patch_body(body)
    assert parts["message"] == "Why it is needed."
    assert parts["trailers"] == [("Signed-off-by", "A <a@example.org>")]
    assert parts["notes"].startswith("v2: rebased") and "mm/frob.c | 2 ++" in parts["notes"]
    assert parts["diff"].startswith("diff --git a/mm/frob.c") and "2.39.5" not in parts["diff"]


def test_inline_patch_found_only_in_own_text():
    quoted = "On x, y wrote:\n> diff --git a/a b/a\n> --- a/a\n> +++ b/a\n> @@ -1 +1 @@\n> -x\n> +y\n\nNo.\n"
    assert find_inline_patch(quoted) is None
    own = "Try this:\n\n-- >8 --\nSubject: fix it\n\n" + DIFF + "\n> quoted again\n"
    text = find_inline_patch(own)
    assert text.startswith("Subject: fix it") and "quoted again" not in text


def test_bare_diff_file_and_stdin(tmp_path):
    p = tmp_path / "change.diff"
    p.write_text(DIFF)
    c = load(str(p))
    (patch,) = c.patches
    assert patch.title == "change.diff" and [f.path for f in patch.files] == [
        "mm/frob.c", "mm/gone.c", "mm/frob.bin", "mm/dead.c"]
    assert c.messages[0].warnings == []
    c2 = load("-", stdin=io.BytesIO(DIFF.encode()))
    assert len(c2.patches[0].files) == 4
