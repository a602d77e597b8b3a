"""Mail reading: mbox flavours, maildir, single files, stdin, encodings, damage."""
from __future__ import annotations

import io
import os
import shutil

import pytest

from review.errors import InputError
from review.inputs.load import from_mbox_bytes, load
from review.inputs.mail import parse_bytes


def mail(fixtures_dir, name):
    return str(fixtures_dir / "mail" / name)


def test_mboxrd_unescapes_from_lines_and_drops_duplicates(fixtures_dir):
    c = load(mail(fixtures_dir, "two-versions.mbox"))
    assert len(c.messages) == 9 and c.duplicates_dropped == 1
    cover2 = c.message("v2-0-frob@example.org")
    assert "\nFrom the review of v1:\n" in cover2.body  # '>From ' in the file
    dup = c.message("v2-2-frob@example.org")
    # liblore prefers the copy from the kernel-style list over the other list's copy
    assert "other-list footer" not in dup.body
    assert [m.msgid for m in c.messages].count("v2-2-frob@example.org") == 1


def test_mboxo_reads_the_same(fixtures_dir):
    c = load(mail(fixtures_dir, "unthreaded.mbox"))
    assert len(c.messages) == 8
    cover = c.message("rfc-0@example.org")
    assert "\nFrom here on, frob trusts the flag." in cover.body


def test_quoted_printable_patch(fixtures_dir):
    c = load(mail(fixtures_dir, "encodings.mbox"))
    p = c.message("qp-patch@example.org").patch
    assert p is not None
    # the soft line break is joined and =3D decoded
    assert "fork copies it instead of" in p.commit_message
    added = [ln.text for f in p.files for h in f.hunks for ln in h.added]
    assert "\tif (page_try_dup_anon_rmap(page, false, vma) /* dup =  share */) {" in added
    assert c.message("qp-patch@example.org").warnings == []


def test_base64_and_latin1_and_multipart(fixtures_dir):
    c = load(mail(fixtures_dir, "encodings.mbox"))
    b64 = c.message("b64-reply@example.de")
    assert b64.author_name == "Jürgen Prüfer"
    assert b64.body.startswith("Grüße aus Köln — one question:")
    assert b64.warnings == []
    latin = c.message("latin1@example.es")
    assert latin.author_name == "José Müller"
    assert latin.body.startswith("Très bien, ça marche.")
    assert latin.warnings == []
    tested = [t for t in latin.trailers if t.name == "Tested-by"]
    assert tested and tested[0].person_name == "José Müller"
    assert c.message("multipart@example.com").body.strip() == "The plain part wins — always."


def test_broken_encodings_give_warnings_on_that_message_only(fixtures_dir):
    c = load(mail(fixtures_dir, "encodings.mbox"))
    bad = c.message("bad-utf8@example.com")
    assert "\ufffd" in bad.body and bad.body.startswith("Looks fine")
    assert any("replaced" in w for w in bad.warnings)
    odd = c.message("odd-charset@example.com")
    assert odd.body.startswith("Unknown charset") and any("unknown charset" in w for w in odd.warnings)
    b64 = c.message("bad-b64@example.com")
    assert b64.body.startswith("Hello world!") and any("base64" in w for w in b64.warnings)
    clean = [m.msgid for m in c.messages if not m.warnings]
    assert set(clean) == {"qp-patch@example.org", "b64-reply@example.de", "latin1@example.es",
                          "multipart@example.com"}


def test_single_patch_file_with_rename(fixtures_dir):
    c = load(mail(fixtures_dir, "rename.patch"))
    (p,) = c.patches
    assert p.title == "mm/frob: rename frob.c to frob_core.c and add frob_share.c"
    ren, new = p.files
    assert (ren.status, ren.old_path, ren.new_path, ren.similarity) == ("renamed", "mm/frob.c", "mm/frob_core.c", 92)
    assert (new.status, new.old_path, new.new_path) == ("added", None, "mm/frob_share.c")
    assert new.hunks[0].new_start == 1 and len(new.hunks[0].added) == 7


def test_eml_file(tmp_path, fixtures_dir):
    text = (fixtures_dir / "mail" / "two-versions.mbox").read_text().split("From mboxrd@z Thu Jan  1 00:00:00 1970\n")[2]
    p = tmp_path / "one.eml"
    p.write_text(text)
    c = load(str(p))
    assert [m.msgid for m in c.messages] == ["v1-1-frob@example.org"]
    assert c.patches[0].counter == 1 and c.patches[0].expected == 2
    assert c.series[0].missing == [2] and c.series[0].cover is None


def test_stdin(fixtures_dir):
    data = (fixtures_dir / "mail" / "two-versions.mbox").read_bytes()
    c = load("-", stdin=io.BytesIO(data))
    assert c.source == "stdin" and len(c.messages) == 9


def test_maildir(tmp_path, fixtures_dir):
    md = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    chunks = (fixtures_dir / "mail" / "two-versions.mbox").read_text().split("From mboxrd@z Thu Jan  1 00:00:00 1970\n")[1:]
    for i, chunk in enumerate(chunks):
        sub = "cur" if i % 2 else "new"
        (md / sub / f"17000000{i:02d}.M1P1.host:2,S").write_text(chunk.replace("\n>From ", "\nFrom "))
    c = load(str(md))
    assert len(c.messages) == 9 and c.duplicates_dropped == 1
    assert [s.version for s in c.series] == [1, 2]
    assert c.message("v2-0-frob@example.org").thread.children


def test_directory_of_patches(tmp_path, fixtures_dir):
    shutil.copy(fixtures_dir / "mail" / "rename.patch", tmp_path / "0001-rename.patch")
    shutil.copy(fixtures_dir / "mail" / "lying-hunk.patch", tmp_path / "0002-lying.patch")
    c = load(str(tmp_path))
    assert len(c.patches) == 2


def test_truncated_mbox_loads_the_rest_with_a_warning(fixtures_dir):
    c = load(mail(fixtures_dir, "truncated.mbox"))
    assert len(c.messages) == 3
    cut = c.messages[-1]
    assert cut.subject.startswith("[PATCH 2/2] mm/frob: cut off")
    assert any("truncated" in w for w in cut.warnings)
    assert c.message("v1-1-frob@example.org").patch is not None


def test_invalid_headers_warn_and_the_next_message_loads(fixtures_dir):
    c = load(mail(fixtures_dir, "bad-headers.mbox"))
    bad, good = c.messages
    assert bad.msgid.endswith("@mmreview.invalid")
    joined = " | ".join(bad.warnings)
    for expected in ("no Message-Id", "Date", "In-Reply-To"):
        assert expected in joined
    assert good.msgid == "good-after-bad@example.org" and good.warnings == []
    assert good.body.strip() == "Still readable."


@pytest.mark.parametrize("content, expected", [
    (b"\x00\x01\x02binary\xff\xfe" * 50, "binary"),
    (b"", "empty"),
    (b"just some words, no headers\nat all\n", "not a mailbox"),
])
def test_junk_is_one_line_error_naming_the_input(tmp_path, content, expected):
    p = tmp_path / "junk.mbox"
    p.write_bytes(content)
    with pytest.raises(InputError) as err:
        load(str(p))
    msg = str(err.value)
    assert str(p) in msg and expected in msg and "\n" not in msg


def test_missing_path_and_range_without_repo():
    with pytest.raises(InputError, match="no such file"):
        load("/nonexistent/thread.mbox")
    with pytest.raises(InputError, match="--repo"):
        load("v6.1..v6.2")


def test_unreadable_file(tmp_path):
    p = tmp_path / "secret.mbox"
    p.write_text("From x")
    p.chmod(0)
    try:
        if os.access(p, os.R_OK):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(InputError, match="permission denied"):
            load(str(p))
    finally:
        p.chmod(0o644)


def test_8bit_headers_are_read_as_utf8_or_replaced(tmp_path):
    p = tmp_path / "8bit.eml"
    p.write_bytes(b"From: J\xc3\xbcrgen <j@x.example>\nSubject: caf\xc3\xa9 \xe9t\xe9\n"
                  b"Message-Id: <8bit@x.example>\n\nbody\n")
    (m,) = load(str(p)).messages
    assert m.author_name == "J\u00fcrgen"
    assert m.subject == "caf\u00e9 \ufffdt\ufffd"
    assert any("Subject header is not UTF-8" in w for w in m.warnings)
    assert not any("From" in w for w in m.warnings)


def test_crlf_mbox_reads_like_lf(tmp_path, fixtures_dir):
    data = (fixtures_dir / "mail" / "two-versions.mbox").read_bytes()
    p = tmp_path / "crlf.mbox"
    p.write_bytes(data.replace(b"\n", b"\r\n"))
    c = load(str(p))
    assert len(c.messages) == 9 and len(c.patches) == 4
    assert all("\r" not in m.body for m in c.messages)
    assert c.patches[0].files[0].hunks[0].added[0].text == "\tif (PageAnonExclusive(&folio->page))"


def test_mboxrd_removes_exactly_one_level(tmp_path):
    p = tmp_path / "rd.mbox"
    p.write_text("From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: A <a@example.org>\nSubject: x\n"
                 "Message-Id: <rd@example.org>\n\n>From the top\n>>From a quote\n")
    (m,) = load(str(p)).messages
    assert m.body.rstrip("\n").splitlines() == ["From the top", ">From a quote"]


def test_crlf_inside_base64_and_quoted_printable_bodies_is_decoded(tmp_path):
    """Transfer encodings keep the sender's CRLF line ends inside the decoded text;
    the body has none left (they showed as ␍), and the raw message is kept."""
    import base64
    text = "Line one.\r\nLine two.\r\n\r\n-- \r\nSig\r\n"
    b64 = base64.b64encode(text.encode()).decode()
    mails = (f"From a@example.org Mon Nov 16 10:00:00 2026\nFrom: A <a@example.org>\n"
             "Subject: base64\nMessage-ID: <b64@example.org>\nContent-Type: text/plain; charset=utf-8\n"
             f"Content-Transfer-Encoding: base64\n\n{b64}\n\n"
             "From a@example.org Mon Nov 16 10:00:01 2026\nFrom: A <a@example.org>\n"
             "Subject: qp\nMessage-ID: <qp@example.org>\nContent-Type: text/plain; charset=utf-8\n"
             "Content-Transfer-Encoding: quoted-printable\n\nLine one.=0D=0ALine two.=0D=0A\n")
    path = tmp_path / "crlf.mbox"
    path.write_text(mails)
    c = load(str(path))
    b64_msg, qp_msg = c.message("b64@example.org"), c.message("qp@example.org")
    assert b64_msg.body == "Line one.\nLine two.\n\n-- \nSig\n"
    assert "\r" not in qp_msg.body and qp_msg.body.startswith("Line one.\nLine two.")
    assert b64_msg.raw.startswith(b"From: A <a@example.org>") and b64.encode()[:20] in b64_msg.raw


def test_a_mime_header_nested_too_deeply_is_a_warning_not_a_crash():
    raw = ("From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: Ann <ann@example.org>\n"
           "Subject: [PATCH] mm: x\nMessage-Id: <n@example.org>\n"
           f"Content-Transfer-Encoding: {'(' * 900}\n\nbody\n").encode()
    coll = from_mbox_bytes(raw, "nested.mbox")
    assert any("nests too deeply" in w for w in coll.messages[0].warnings)


@pytest.mark.parametrize("header", ["Content-Transfer-Encoding", "Content-Type"])
def test_an_oversized_mime_header_is_dropped_with_a_warning_and_the_body_read(header):
    """The email package parses a structured header in time quadratic in its length:
    a MIME header far past any real one is dropped before anything parses it, and the
    part's default (text/plain, 7bit) reads the body."""
    raw = (f"From: Ann Example <ann@example.org>\nSubject: [PATCH] mm: frob\n"
           f"Message-Id: <m1@example.org>\nMIME-Version: 1.0\n"
           f"{header}: {'BASE64 junk' * 5000}\n\nThe body, as sent.\n").encode()
    msg, em = parse_bytes(raw, "big-header.eml", 0)
    assert em[header] is None
    assert any(w.startswith(f"{header} header of 55,000 characters ignored") for w in msg.warnings)
    assert msg.body.strip() == "The body, as sent."


def test_an_oversized_mime_header_of_a_part_is_dropped_too():
    raw = ("From: Ann Example <ann@example.org>\nSubject: [PATCH] mm: frob\n"
           "Message-Id: <m2@example.org>\nMIME-Version: 1.0\n"
           'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
           f"Content-Type: text/plain\nContent-Transfer-Encoding: {'x-junk ' * 2000}\n\n"
           "The part, as sent.\n--b--\n").encode()
    msg, em = parse_bytes(raw, "big-part-header.eml", 0)
    (part,) = [p for p in em.walk() if not p.is_multipart()]
    assert part["Content-Transfer-Encoding"] is None
    assert any(w.startswith("Content-Transfer-Encoding header of 13,999 characters ignored")
               for w in msg.warnings)
    assert msg.body.strip() == "The part, as sent."


def test_a_parts_oversized_content_type_is_gone_before_the_parser_splits_the_body():
    """The parser reads each part's Content-Type while it splits a multipart body, in
    time quadratic in the header's length: the bytes it is given no longer hold it.
    Everything else, a diff's "--- a/file" block included, is byte for byte as sent."""
    from review.inputs.mail import _without_oversized_mime_headers
    diff = ("--- a/mm/memory.c\n+++ b/mm/memory.c\n@@ -1,1 +1,1 @@\n-a\n+b\n"
            "Content-Type: text/plain\n")
    raw = ("From: Ann Example <ann@example.org>\nSubject: [PATCH] mm: frob\n"
           'Message-Id: <m3@example.org>\nContent-Type: multipart/mixed; boundary="b"\n\n'
           "--b\n"
           f"Content-Type: text/plain;\n name={'y' * 700}\n x={'z' * 700}\n\n"
           f"{diff}\n--b--\n").encode()
    warnings: list[str] = []
    out = _without_oversized_mime_headers(raw, warnings)
    assert b"yyyy" not in out and b"zzzz" not in out
    assert out == raw.replace(f"Content-Type: text/plain;\n name={'y' * 700}\n x={'z' * 700}\n"
                              .encode(), b"")
    assert warnings == ["Content-Type header of 1,422 characters ignored (longer than any real "
                        "one); the part's default applies"]
    msg, _ = parse_bytes(raw, "part-header.eml", 0)
    assert "+++ b/mm/memory.c" in msg.body
