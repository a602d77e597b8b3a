"""Hypothesis generators of malformed inputs for `mmreview show`, `extract`, `check`
and `replay`: damaged mail, lying diffs, hostile C in patches of mm/ files, and broken
replay traces. Each generator returns the bytes of one input file.

One home for these strategies: the suite's properties (tests/inputs_fuzz/,
tests/review/inputs/test_input_fuzz.py) and the long run (bench/input_fuzz.py) draw
from here. The fragments are written for this project; none is copied from real mail
or kernel source.
"""
from __future__ import annotations

import base64
import json
import quopri
from pathlib import Path

from hypothesis import strategies as st

FIXTURE = (Path(__file__).resolve().parents[2] / "fixtures" / "mail" / "two-versions.mbox").read_bytes()
FIXTURE_LINES = FIXTURE.split(b"\n")
SEPARATOR = b"From mboxrd@z Thu Jan  1 00:00:00 1970"

# --- mail headers ----------------------------------------------------------------------

header_names = st.sampled_from([
    b"From", b"To", b"Cc", b"Subject", b"Date", b"Message-Id", b"In-Reply-To", b"References",
    b"Content-Type", b"Content-Transfer-Encoding", b"MIME-Version", b"Content-Disposition",
    b"X-Mailer", b"List-Id", b"Subject ", b"", b"From:", b"\xff\xfe"])
header_values = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([
        b"<a@b>", b"<", b">", b"<>", b"=?utf-8?b?####?=", b"=?x-bad?q?=FF?=", b"=?utf-8?q?caf=C3?=",
        b"=?iso-8859-1?q?=E9?= <e@x>", b"=?utf-8?B?w6k=?= =?bogus?B?w6k=?=", b"=?unknown-8bit?q?x?=",
        b"text/plain; charset=\"utf-7\"", b"text/plain; charset=x-no-such-charset",
        b"text/plain; charset=\"utf-16\"", b"text/plain; charset=", b"multipart/mixed; boundary=",
        b"multipart/mixed", b"multipart/alternative; boundary=\"\"", b"message/rfc822",
        b"base64", b"quoted-printable", b"8bit", b"x-uuencode", b"BASE64 junk",
        b"[PATCH v2 1/2] x", b"Re: [PATCH 0/0] y", b"[PATCH v999999999999999999 1/9999999999999999999] z",
        b"[PATCH 3/2] a", b"[PATCH 0/-1] b", b"[PATCH vX 1/2] c", b"[[PATCH]] d",
        b"Mon, 99 Foo 2026 99:99:99 +9999", b"Thu, 1 Jan 1970 00:00:00 -2400", b"9999999999999",
        b"<a@b> <a@b> <c@d>", b"a@b", b"\"\" <>", b"Ann <ann@example.org", b"@", b"<<<>>>",
        b"x\x00y", b"\xc3\x28", b"\xed\xa0\x80", b"\x1b[31mred\x1b[0m", b"\xe2\x80\xaeevil",
    ]),
)


@st.composite
def headers(draw, extra: list[tuple[bytes, bytes]] | None = None) -> bytes:
    """Header lines: duplicated, overlong, folded oddly, without a colon, or binary."""
    pairs = list(extra or []) + draw(st.lists(st.tuples(header_names, header_values), max_size=8))
    pairs = draw(st.permutations(pairs)) if draw(st.booleans()) else pairs
    lines = []
    for name, value in pairs:
        shape = draw(st.integers(0, 9))
        if shape == 0:
            lines.append(name + b": " + value * draw(st.sampled_from([50, 400, 3000])))  # overlong
        elif shape == 1:
            lines.append(name + b":" + value + b"\n\t" + value + b"\n " + value)         # folded
        elif shape == 2:
            lines.append(name + b" " + value)                                            # no colon
        elif shape == 3:
            lines += [name + b": " + value] * 3                                          # duplicated
        else:
            lines.append(name + b": " + value)
    return b"\n".join(lines)


# --- mail bodies -----------------------------------------------------------------------

body_lines = st.one_of(
    st.sampled_from(FIXTURE_LINES),
    st.sampled_from([
        b"diff --git a/x b/x", b"--- a/x", b"+++ b/x", b"@@ -1,3 +1,99 @@", b"@@ -0,0 +0,0 @@",
        b"> +foo", b">> -bar", b"> [...]", b"...", b"---", b"-- ", b"rename from x", b"\\ No newline",
        b"GIT binary patch", b"Binary files a/x and b/x differ", b"similarity index 9999%",
        b"From ", b"From someone@example.org Mon Jan  5 10:00:00 2026", b">From a@b Mon Jan 5",
        b">>From x", b"From: Ann <ann@example.org>", b"Reviewed-by: <", b"Acked-by: Ann",
        b"Signed-off-by: =?utf-8?q?=FF?= <x@y>", b"base-commit: zzzz", b"change-id: ",
        b"Link: https://lore.kernel.org/r/", b"\x00", b"\r", b"\x0c", b"\xff\xfe\xfd", b"\xc3",
    ]),
    st.binary(max_size=30),
)


def _qp_damage(data: bytes) -> bytes:
    """Quoted-printable with a lone '=', a bad escape and a soft break at the very end."""
    return quopri.encodestring(data) + b"\n=ZZ =4 =\n=C3=\n="


@st.composite
def encoded_part(draw, payload: bytes) -> tuple[bytes, bytes]:
    """(headers, body) of one MIME part carrying `payload`, often encoded badly."""
    charset = draw(st.sampled_from([b"utf-8", b"us-ascii", b"iso-8859-1", b"utf-7", b"utf-16",
                                    b"x-no-such-charset", b"", b"\"utf-8", b"utf-32", b"cp1252"]))
    cte = draw(st.sampled_from([b"7bit", b"8bit", b"base64", b"quoted-printable", b"binary", b"x-junk"]))
    if cte == b"base64":
        body = base64.encodebytes(payload)
        junk = draw(st.sampled_from([b"", b"!!!*", b"=", b"====", b"\x00", b"\xff\xff", b"A"]))
        at = draw(st.integers(0, len(body)))
        body = body[:at] + junk + body[at:]
    elif cte == b"quoted-printable":
        body = draw(st.sampled_from([quopri.encodestring(payload), _qp_damage(payload)]))
    else:
        body = payload
    head = (b"Content-Type: text/plain; charset=" + charset + b"\n"
            b"Content-Transfer-Encoding: " + cte)
    return head, body


@st.composite
def mime_body(draw, payload: bytes, depth: int = 0) -> tuple[bytes, bytes]:
    """(Content-Type headers, body) of a multipart body, damaged: boundaries that never
    occur or lie, nested multiparts, a missing closing boundary, an empty boundary."""
    boundary = draw(st.sampled_from([b"BOUNDARY", b"b", b"", b"--", b"x" * 200, b"a b", b"\xff"]))
    used = draw(st.sampled_from([boundary, boundary, b"OTHER", boundary + b"x"]))
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        if depth < 3 and draw(st.integers(0, 3)) == 0:
            head, body = draw(mime_body(payload, depth + 1))
        else:
            head, body = draw(encoded_part(payload))
        parts.append(b"--" + used + b"\n" + head + b"\n\n" + body)
    kind = draw(st.sampled_from([b"mixed", b"alternative", b"signed", b"related", b"digest"]))
    out = b"preamble\n" + b"\n".join(parts)
    if draw(st.booleans()):
        out += b"\n--" + used + b"--\n"       # otherwise the end is missing
    if draw(st.booleans()):
        out += b"epilogue\n--" + used + b"--\n"
    ctype = b"Content-Type: multipart/" + kind + b"; boundary=\"" + boundary + b"\"\nMIME-Version: 1.0"
    return ctype, out


def _with_line_endings(data: bytes, how: str) -> bytes:
    if how == "crlf":
        return data.replace(b"\n", b"\r\n")
    if how == "mixed":
        return data.replace(b"\n\n", b"\r\n\n").replace(b"\n-", b"\r-")
    if how == "cr":
        return data.replace(b"\n", b"\r")
    return data


@st.composite
def message(draw, body: bytes | None = None, extra_headers: list | None = None) -> bytes:
    """One message (no mbox separator): odd headers, and a body that is plain, MIME
    or encoded badly; `body` defaults to generated lines."""
    if body is None:
        body = b"\n".join(draw(st.lists(body_lines, max_size=25)))
    head = draw(headers(extra_headers))
    shape = draw(st.integers(0, 3))
    if shape == 1:
        ctype, body = draw(mime_body(body))
        head += b"\n" + ctype
    elif shape == 2:
        part_head, body = draw(encoded_part(body))
        head += b"\nMIME-Version: 1.0\n" + part_head
    return head + b"\n\n" + body


@st.composite
def mbox(draw, messages=None) -> bytes:
    """Messages joined as an mbox whose separators are damaged: missing, garbled,
    "From " lines in bodies, >From quoting, CR/LF variants, NUL and invalid UTF-8."""
    msgs = draw(st.lists(messages if messages is not None else message(), min_size=1, max_size=4))
    out = []
    for i, m in enumerate(msgs):
        sep = draw(st.sampled_from([SEPARATOR, SEPARATOR, b"From ", b"From x", b">From a@b Mon Jan  5",
                                    b"From - Mon Jan 5 2026", b"", b"From \xff\xfe 1970"]))
        if i == 0 and draw(st.booleans()):
            sep = b""                                   # a bare message: no separator at all
        out.append(sep + b"\n" + m if sep else m)
    data = b"\n".join(out)
    data = _with_line_endings(data, draw(st.sampled_from(["lf", "lf", "crlf", "mixed", "cr"])))
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\n\nFrom \n", b"\r\r"])) + data[at:]
    if draw(st.integers(0, 4)) == 0:
        data = data[:draw(st.integers(0, len(data)))]  # truncated anywhere
    return data


@st.composite
def mutated_fixture(draw) -> bytes:
    """A good mbox with a slice replaced by junk."""
    at = draw(st.integers(0, len(FIXTURE)))
    cut = draw(st.integers(0, 40))
    return FIXTURE[:at] + draw(st.binary(max_size=20)) + FIXTURE[at + cut:]


# --- diffs -----------------------------------------------------------------------------

PATHS = ["mm/memory.c", "mm/gup.c", "mm/rmap.c", "mm/huge_memory.c", "include/linux/mm.h",
         "include/linux/rmap.h", "mm/frob.c", "a b/c d.c", "mm/\u00e9t\u00e9.c", "../../etc/passwd",
         "/dev/null", "", "mm/memory.c\t(old)", "\"mm/quoted\\tname.c\""]
CODE = ["\tif (PageAnon(page))", "\t\treturn false;", "\treturn true;", "}", "{",
        "\tpage_dup_file_rmap(page, false);", "\tfolio_get(folio);", "", "\t/* comment */",
        "static bool wp_can_reuse_anon_folio(struct folio *folio)"]
counts = st.one_of(st.integers(0, 6), st.sampled_from([10**9, 2**31, 2**63, 10**30, 0]))


@st.composite
def hunk(draw, body: list[str] | None = None) -> list[str]:
    """One hunk; its @@ counts agree with the body, disagree, or are absurd."""
    lines = body if body is not None else [
        draw(st.sampled_from(" +-")) + draw(st.sampled_from(CODE))
        for _ in range(draw(st.integers(0, 8)))]
    old = sum(1 for ln in lines if ln[:1] in " -")
    new = sum(1 for ln in lines if ln[:1] in " +")
    start = draw(st.one_of(st.integers(0, 3000), counts))
    if draw(st.booleans()):
        old, new = draw(counts), draw(counts)                   # lying counts
    form = draw(st.integers(0, 4))
    header = {0: f"@@ -{start},{old} +{start},{new} @@ int frob(struct page *page)",
              1: f"@@ -{start} +{start} @@",
              2: f"@@ -{start},{old} +{start},{new}",
              3: f"@@@ -{start},{old} -{start},{old} +{start},{new} @@@",
              4: f"@@ -{start},-{old} +x,{new} @@"}[form]
    if draw(st.integers(0, 4)) == 0:
        lines = lines[:draw(st.integers(0, len(lines)))]         # truncated
    if draw(st.integers(0, 5)) == 0:
        lines = lines + ["\\ No newline at end of file"]
    return [header] + lines


@st.composite
def file_diff(draw, path: str | None = None, hunks=None) -> list[str]:
    """A `diff --git` section: modified, new, deleted, renamed, copied, mode change,
    binary; sometimes without its ---/+++ lines."""
    a = path if path is not None else draw(st.sampled_from(PATHS))
    b = draw(st.sampled_from([a, a, draw(st.sampled_from(PATHS))]))
    out = [f"diff --git a/{a} b/{b}"]
    kind = draw(st.sampled_from(["modify", "modify", "new", "delete", "rename", "copy", "mode", "binary"]))
    minus, plus = f"--- a/{a}", f"+++ b/{b}"
    if kind == "new":
        out += [f"new file mode {draw(st.sampled_from(['100644', '100755', '120000', '777', 'x']))}"]
        minus = "--- /dev/null"
    elif kind == "delete":
        out += ["deleted file mode 100644"]
        plus = "+++ /dev/null"
    elif kind in ("rename", "copy"):
        out += [f"similarity index {draw(st.sampled_from(['100', '87', '0', '9999', '-5', 'x']))}%",
                f"{kind} from {a}", f"{kind} to {b}"]
    elif kind == "mode":
        out += ["old mode 100644", f"new mode {draw(st.sampled_from(['100755', '0', 'zzz']))}"]
    if kind != "binary":
        out.append(f"index {draw(st.sampled_from(['8e8b4e5..fec6423', 'zzz', '0..0', '']))} 100644")
    if kind == "binary":
        out += ["index 0000000..1111111", "GIT binary patch",
                draw(st.sampled_from(["literal 12", "delta 9999999999", "literal x", "literal"])),
                draw(st.sampled_from(["zcmZ?wzk", "$$$$", "", "Mc${NkU|;}"])), "",
                draw(st.sampled_from(["literal 0", "HcmV?d00001", ""]))]
        if draw(st.booleans()):
            out.append(f"Binary files a/{a} and b/{b} differ")
        return out
    if draw(st.integers(0, 4)):
        out.append(minus)
    if draw(st.integers(0, 4)):                 # sometimes the +++ line is missing
        out.append(plus)
    for h in draw(st.lists(hunks if hunks is not None else hunk(), max_size=3)):
        out += h
    return out


@st.composite
def diff_text(draw, sections=None) -> str:
    """One or more file diffs; sometimes quoted as in a reply, or with junk between."""
    sections = draw(st.lists(sections if sections is not None else file_diff(), min_size=1, max_size=3))
    lines = [ln for s in sections for ln in s]
    if draw(st.integers(0, 5)) == 0:
        depth = draw(st.sampled_from(["> ", ">> ", ">", "> > "]))
        lines = ["On Mon, Ann wrote:"] + [depth + ln for ln in lines] + ["", "This looks wrong."]
    if draw(st.integers(0, 5)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["-- ", "---", "", "garbage"])))
    return "\n".join(lines) + "\n"


@st.composite
def patch_mail(draw, diff: str) -> bytes:
    """`diff` as a git format-patch mail whose envelope may be damaged too."""
    subject = draw(st.sampled_from(["[PATCH] mm: frob", "[PATCH 1/1] mm/memory: x", "[PATCH v2 2/3] mm: y",
                                    "Re: [PATCH] mm: frob", "[PATCH 2/1] z", "mm: no tag"]))
    body = (f"The commit message.\n\nSigned-off-by: Ann Example <ann@example.org>\n---\n"
            f"{diff}-- \n2.39.5\n").encode("utf-8", "surrogateescape")
    extra = [(b"From", b"Ann Example <ann@example.org>"), (b"Subject", subject.encode()),
             (b"Date", b"Mon, 5 Jan 2026 10:00:00 +0000"), (b"Message-Id", b"<p1@example.org>")]
    if draw(st.booleans()):
        return b"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n" + \
            b"\n".join(k + b": " + v for k, v in extra) + b"\n\n" + body
    return draw(mbox(message(body=body, extra_headers=extra)))


def diff_patches() -> st.SearchStrategy[bytes]:
    """Patch mails carrying damaged and lying diffs."""
    return diff_text().flatmap(patch_mail)


# --- C in patches ----------------------------------------------------------------------

FUNCTIONS = ["do_wp_page", "copy_present_pte", "gup_must_unshare", "page_try_dup_anon_rmap",
             "wp_can_reuse_anon_folio", "do_swap_page", "follow_page_pte", "frob_not_bound",
             "page_maybe_dma_pinned", "try_to_migrate_one"]
C_FRAGMENTS = [
    # function-like macros, their bodies, and conditionals inside a function
    "#define REUSE(p) do { if (PageAnon(p)) return true; } while (0)",
    "#define COND(x, ...) ((x) && __VA_ARGS__)", "\tREUSE(page);", "\tif (COND(PageAnon(page), 1))",
    "#ifdef CONFIG_TRANSPARENT_HUGEPAGE", "#ifndef CONFIG_MMU", "#if 0", "#else", "#endif", "#elif X",
    "#define X \\", "\tcontinued line \\", "#include <linux/mm.h>", "#pragma once", "#error no",
    # K&R declarations
    "int knr(page, flags)", "struct page *page;", "int flags;",
    # unbalanced and odd tokens
    "{", "}", "{{{", "}}}", "(", ")", "((((((((", "))))))))", ";", "\"unterminated", "'x", "/* open",
    "*/", "// line", "\treturn", "\treturn false;", "\tgoto out;", "out:", "\tif (PageAnonExclusive(page))",
    "\t\treturn true;", "\tif (page_count(page) != 1 &&", "\t    !PageKsm(page))", "\telse",
    "\tswitch (x) { case 1: default: }", "\tfor (;;)", "\twhile (1);", "\tx = y ? : z;",
    "\tVM_BUG_ON(PageAnon(page) && !PageAnonExclusive(page));", "\tWARN_ON_ONCE(",
    "\tasm volatile(\"\" ::: \"memory\");", "\t__attribute__((unused)) int u;",
    # trigraphs, digraphs and other odd tokens
    "??=define T 1", "\tif (a ??! b) ??<", "??>", "<% %>", "<: :>", "%:define D 1", "\t\\",
    "\tx = 0x1p-3 + 1e+ + 08 + 'ab' + L\"w\" + u8\"\u00e9\";", "\t@", "\t$x = `y`;", "\t\x00", "\t\x1b[2J",
    # non-ASCII identifiers
    "\tint \u00e9t\u00e9 = 1;", "\tif (p\u00e4ge_anon(page))", "\tbool \u0440age = \u0440age;",
    "\tint \u200bzero_width;", "\tint \u202eevil;", "\t\u4e2d\u6587(page);",
]


@st.composite
def c_body(draw) -> list[str]:
    lines = draw(st.lists(st.sampled_from(C_FRAGMENTS), max_size=30))
    if draw(st.integers(0, 30)) == 0:               # a 10,000-line function
        lines += ["\tfrob_step(page);"] * 10_000
    return lines


@st.composite
def c_hunk(draw) -> list[str]:
    """A hunk of a bound function (or another one) whose added lines are hostile C."""
    name = draw(st.sampled_from(FUNCTIONS))
    signature = draw(st.sampled_from([
        f"static vm_fault_t {name}(struct vm_fault *vmf)", f"bool {name}(page, flags)",
        f"static inline bool {name}(unsigned int flags, struct page *page)", f"{name}(", f"int {name}"]))
    added = ["+" + ln for ln in draw(c_body())]
    context = [" " + signature, " {"] if draw(st.booleans()) else []
    removed = ["-" + ln for ln in draw(st.lists(st.sampled_from(C_FRAGMENTS), max_size=4))]
    tail = [" }"] if draw(st.booleans()) else []
    return draw(hunk(body=context + removed + added + tail))


def c_patches() -> st.SearchStrategy[bytes]:
    """Patch mails whose hunks add hostile C to mm/memory.c, mm/gup.c and friends."""
    sections = st.sampled_from(PATHS[:6]).flatmap(lambda p: file_diff(path=p, hunks=c_hunk()))
    return diff_text(sections=sections).flatmap(patch_mail)


# --- replay traces ---------------------------------------------------------------------

OP_NAMES = ["mmap", "munmap", "madvise", "mprotect", "read", "write", "fork", "exit", "pin", "get",
            "unpin", "put", "dma_read", "dma_write", "swapout", "swapin", "migrate", "ksm_merge",
            "split_pmd", "split_folio", "nosuchop", "", "MMAP"]
ARG_NAMES = ["mm", "vpn", "npages", "thp", "advice", "write", "value", "child", "id", "longterm",
             "mm2", "vpn2", "bogus", ""]
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 600), st.sampled_from([-1, -(2**63), 2**63, 10**400, 2**20, 4096]),
    st.floats(allow_nan=False), st.sampled_from(["p0", "", "dontneed", "x" * 1000, "\u202e", "\x00"]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(ARG_NAMES), inner, max_size=3)), max_leaves=8)


@st.composite
def trace_step(draw) -> object:
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    step = {"op": draw(st.one_of(st.sampled_from(OP_NAMES), json_scalars))}
    for name in draw(st.lists(st.sampled_from(ARG_NAMES), max_size=6)):
        step[name] = draw(st.one_of(json_scalars, st.integers(0, 8)))
    return step


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@st.composite
def trace_object(draw) -> object:
    obj: dict = {}
    if draw(st.integers(0, 5)):
        obj["ruleset"] = draw(st.one_of(
            st.sampled_from(["current", "v5.8", "current+post", "current+post@abc", "nosuch", "", "v5.17+pre"]),
            json_scalars))
    steps = draw(st.lists(trace_step(), max_size=12))
    if draw(st.integers(0, 20)) == 0:              # a very long trace
        steps = [{"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}] + \
                [{"op": "write", "mm": 0, "vpn": 0, "value": i} for i in range(draw(st.sampled_from([5000, 100_001])))]
    obj["steps"] = steps if draw(st.integers(0, 9)) else draw(json_values)
    for name in draw(st.lists(st.sampled_from(["free", "name", "expect", "about", "violation_step", "zz"]),
                              max_size=2)):
        obj[name] = draw(json_values)
    return obj if draw(st.integers(0, 9)) else draw(json_values)


@st.composite
def traces(draw) -> bytes:
    """A replay trace file: a valid-looking trace with wrong types, unknown ops and
    fields, huge and negative numbers; malformed JSON; deep nesting; not UTF-8."""
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(st.binary(max_size=60))
    if shape == 1:
        return _nested(draw(st.sampled_from([10, 1000, 100_000]))).encode()
    text = json.dumps(draw(trace_object()))
    if shape == 2:                                    # malformed JSON: cut, junk or NaN
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["", ",", "}", "NaN", "\"", "\\u12", "1e999999"])) + text[at:]
    elif shape == 3:
        text = text.replace("0", draw(st.sampled_from(["-0", "1e400", "99999999999999999999999999", "0.5"])))
    data = text.encode()
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b""])) + data
    return data


# --- every kind of input, as a target reads it -----------------------------------------

def mail_inputs() -> st.SearchStrategy[bytes]:
    """Anything `mmreview show` reads: damaged mail, patch mails, hostile C."""
    return st.one_of(mbox(), mutated_fixture(), diff_patches(), c_patches(), st.binary(max_size=300))


def patch_inputs() -> st.SearchStrategy[bytes]:
    """What `mmreview extract` and `check` are given: mostly patches, some plain mail."""
    return st.one_of(c_patches(), diff_patches(), mbox())
