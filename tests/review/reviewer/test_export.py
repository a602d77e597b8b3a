"""Reply mail that mail tools accept: mailbox reads the mbox, `git mailsplit` splits it
one message per reply, `git send-email --dry-run DIR` lists one mail per .eml; each
reply threaded, addressed and signed right; quotes trimmed; no identity, no export."""
from __future__ import annotations

import mailbox
import os
import re
import shutil
import subprocess
from email.utils import getaddresses
from pathlib import Path

import pytest

from review.errors import InputError
from review.inputs.load import load
from review.reviewer import export as rx
from review.reviewer import identity, mail_files
from review.reviewer.state import ReviewState

ME = "Rita Reviewer <rita@example.org>"
ASCTIME_FROM = re.compile(r"^From \S+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")


def _review(source: Path, drafts: Path, who: str = ME):
    """A review of `source` with a reply of each kind: a note on the first cover
    letter, a line comment and a trailer on a patch, a free reply to a reply."""
    c = load(str(source))
    state = ReviewState.open(str(source), directory=drafts, identity=who)
    cover = c.series[0].cover
    state.set_series_note(cover.msgid, rx.quote_body(cover) + "\nThe series reads well.\n")
    patch = next(p for p in c.patches if p.files and not p.inline)
    f = patch.files[0]
    line = next(ln for ln in f.hunks[0].lines if ln.kind == "added")
    state.set_comment(patch, f, f.hunks[0], line, "Why here?\nFrom here on it is fine.")
    state.add_trailer(patch, "Reviewed-by", identity.trailer_form(who))
    reply = next(m for m in c.messages if m.patch is None and m.is_reply)
    state.set_reply(reply.msgid, rx.quote_body(reply) + "\nAgreed.\n")
    answered = [cover, patch.message, reply]
    return c, state, answered


def _addrs(value) -> list[str]:
    return [a.lower() for _, a in getaddresses([str(value or "")])]


def test_export_reads_back_with_mailbox_and_git_mailsplit(demo_mbox, tmp_path):
    c, state, answered = _review(demo_mbox, tmp_path / "d")
    msgs = rx.reply_messages(c.patches, c.series, state, c.messages)
    mbox, directory = mail_files.write_both(tmp_path / "review.mbox", msgs)
    assert directory == tmp_path / "review"
    raw = mbox.read_text()
    from_lines = [ln for ln in raw.split("\n") if ln.startswith("From ")]
    assert len(from_lines) == 3 and all(ASCTIME_FROM.match(ln) for ln in from_lines)
    assert ">From here on it is fine." in raw           # mbox quoting of a body line
    read = list(mailbox.mbox(str(mbox)))
    assert len(read) == 3
    by_reply = {m["In-Reply-To"]: m for m in read}
    assert set(by_reply) == {f"<{m.msgid}>" for m in answered}
    for original in answered:
        m = by_reply[f"<{original.msgid}>"]
        assert m["From"] == ME
        assert _addrs(m["To"]) == [original.author_email.lower()]
        cc = _addrs(m["Cc"])
        expected = {a.lower() for _, a in getaddresses(original.to + original.cc)}
        assert set(cc) == expected - {original.author_email.lower(), "rita@example.org"}
        assert len(cc) == len(set(cc))
        assert m["References"].split()[-1] == f"<{original.msgid}>"
        assert m["Subject"].startswith("Re: ")
    split = tmp_path / "split"
    split.mkdir()
    out = subprocess.run(["git", "mailsplit", f"-o{split}", str(mbox)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "3"
    assert len(list(split.iterdir())) == 3
    assert sorted(p.name for p in directory.iterdir()) == mail_files.eml_names(msgs)


def test_replies_quote_what_the_comments_need_and_end_in_trailers(demo_mbox, tmp_path):
    c, state, answered = _review(demo_mbox, tmp_path / "d")
    msgs = {m["In-Reply-To"]: m for m in rx.reply_messages(c.patches, c.series, state, c.messages)}
    patch_body = msgs[f"<{answered[1].msgid}>"].get_content().rstrip("\n").split("\n")
    assert patch_body[-2:] == ["", f"Reviewed-by: {ME}"]
    reply = answered[2]
    body = msgs[f"<{reply.msgid}>"].get_content()
    assert body.rstrip().endswith("Agreed.")
    quoted = [ln for ln in body.split("\n") if ln.startswith(">")]
    assert 0 < len([q for q in quoted if q != "> [...]"]) <= rx.CONTEXT
    assert body.startswith(rx.attribution(reply))


def test_long_cc_is_folded_and_the_author_not_repeated(corpus_dir, tmp_path):
    c, state, answered = _review(corpus_dir / "cow-fixes-part2-v1.mbox", tmp_path / "d")
    msgs = rx.reply_messages(c.patches, c.series, state, c.messages)
    for m in msgs:
        head = m.as_bytes(policy=rx.POLICY).split(b"\n\n", 1)[0].decode()
        assert max(len(ln) for ln in head.split("\n")) <= 78
        to, cc = _addrs(m["To"]), _addrs(m["Cc"])
        assert len(to) == 1 and to[0] not in cc and len(cc) == len(set(cc)) > 20


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_send_email_dry_run_lists_one_mail_per_reply(demo_mbox, tmp_path):
    probe = subprocess.run(["git", "send-email", "-h"], capture_output=True, text=True)
    if "send-email" not in probe.stdout + probe.stderr or "not a git command" in probe.stderr:
        pytest.skip("git send-email is not installed (Debian: git-email)")
    c, state, answered = _review(demo_mbox, tmp_path / "d")
    msgs = rx.reply_messages(c.patches, c.series, state, c.messages)
    directory = mail_files.write_eml_dir(tmp_path / "out", msgs)
    env = dict(os.environ, HOME=str(tmp_path), GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="Rita Reviewer", GIT_AUTHOR_EMAIL="rita@example.org",
               GIT_COMMITTER_NAME="Rita Reviewer", GIT_COMMITTER_EMAIL="rita@example.org")
    done = subprocess.run(["git", "send-email", "--dry-run", "--to=test@example.invalid", str(directory)],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.count("Dry-OK. Log says:") == 3
    replied = re.findall(r"^In-Reply-To: (\S+)$", done.stdout, re.M)
    assert sorted(replied) == sorted(f"<{m.msgid}>" for m in answered)


def test_no_identity_no_export(demo_mbox, tmp_path):
    c, state, _ = _review(demo_mbox, tmp_path / "d")
    state.identity = ""
    with pytest.raises(InputError) as exc:
        rx.reply_messages(c.patches, c.series, state, c.messages)
    assert str(exc.value) == identity.HINT and "\n" not in identity.HINT
    assert "user.email" in identity.HINT and "--identity" in identity.HINT


def _git(cwd: Path, *args: str, env: dict) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_identity_from_git_config_sendemail_first(tmp_path, monkeypatch):
    monkeypatch.delenv("MMREVIEW_IDENTITY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    repo = tmp_path / "repo"
    _git(tmp_path, "init", "-q", str(repo), env=dict(os.environ))
    assert identity.resolve(repo=str(repo)) == ""
    _git(repo, "config", "user.name", "Ann Dev", env=dict(os.environ))
    _git(repo, "config", "user.email", "ann@example.org", env=dict(os.environ))
    assert identity.resolve(repo=str(repo)) == "Ann Dev <ann@example.org>"
    _git(repo, "config", "sendemail.from", '"Ann D." <ann@lists.example.org>', env=dict(os.environ))
    assert identity.resolve(repo=str(repo)) == "Ann D. <ann@lists.example.org>"
    assert identity.resolve("Bo <bo@example.org>", repo=str(repo)) == "Bo <bo@example.org>"
    with pytest.raises(InputError, match="--identity 'bo'"):
        identity.resolve("bo")
    assert not identity.usable("Reviewer <reviewer@localhost>")


def test_trim_quotes_keeps_context_before_each_paragraph_only():
    text = "\n".join(["On Mon, A wrote:"] + [f"> q{i}" for i in range(10)]
                     + ["", "About q9.", "", "> r1", "> r2", "and r2.", "", "> tail", "> end", ""])
    out = rx.trim_quotes(text).split("\n")
    assert out[:2] == ["On Mon, A wrote:", "> [...]"]
    assert out[2:2 + rx.CONTEXT] == [f"> q{i}" for i in range(10 - rx.CONTEXT, 10)]
    assert out[-4:] == ["> r1", "> r2", "and r2.", ""]
    assert "> tail" not in out
    assert rx.trim_quotes("On Mon, A wrote:\n> only a quote\n") == ""


def test_eml_directory_refuses_other_files_and_drops_stale_replies(demo_mbox, tmp_path):
    c, state, _ = _review(demo_mbox, tmp_path / "d")
    msgs = rx.reply_messages(c.patches, c.series, state, c.messages)
    out = mail_files.write_eml_dir(tmp_path / "out", msgs)
    assert len(list(out.iterdir())) == 3
    mail_files.write_eml_dir(out, msgs[:1])
    assert [p.name for p in out.iterdir()] == mail_files.eml_names(msgs[:1])
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="notes.txt"):
        mail_files.write_both(tmp_path / "out.mbox", msgs)
    assert not (tmp_path / "out.mbox").exists()
