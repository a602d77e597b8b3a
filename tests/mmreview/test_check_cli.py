"""`mmreview check` command line: usage and input errors (exit 2, one line), the CI
examples' commands, the b4 config printout."""
from __future__ import annotations

import re
import shlex

import pytest

from mmreview.cli import build_parser, main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, pattern", [
    ((), "no INPUT given"),
    (("/nonexistent/x.patch",), "/nonexistent/x.patch"),
    (("--budget", "0", "x.patch"), "must be positive"),
    (("--max-examples", "many", "x.patch"), "not an integer"),
    (("--format", "html", "x.patch"), "invalid choice"),
    (("--b4-review-tip", "HEAD", "x.patch"), "needs --repo"),
])
def test_usage_and_input_errors_exit_2(capsys, tmp_path, monkeypatch, argv, pattern):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.patch").write_text("not a patch at all\n")
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert re.search(pattern, err), err
    assert "Traceback" not in err


def test_unreadable_database_spec_is_an_input_error(capsys, tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    (tmp_path / "x.patch").write_text("x\n")
    code, _, err = _run(capsys, "--database", str(f), str(tmp_path / "x.patch"))
    assert code == 2 and "not a directory" in err


def test_unreachable_redis_is_an_input_error(capsys, tmp_path):
    (tmp_path / "x.patch").write_text("x\n")
    code, _, err = _run(capsys, "--database", "redis://127.0.0.1:1/0", str(tmp_path / "x.patch"))
    assert code == 2 and "cannot reach redis" in err


def test_b4_config_printout(capsys):
    code, out, _ = _run(capsys, "--b4-config", "--budget", "5")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    keys = [shlex.split(l)[3] for l in lines]
    assert keys == ["b4.prep-perpatch-check-cmd", "b4.am-perpatch-check-cmd", "b4.review-perpatch-check-cmd"]
    assert shlex.split(lines[2])[4] == "mmreview check - --no-patch-ok --repo . --budget 5 --format b4"


def test_ci_examples_use_valid_check_options():
    """The mmreview commands in docs/ci/*.yml parse with this very parser."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    parser = build_parser(only="check")
    seen = 0
    for name in ("github-actions.yml", "gitlab-ci.yml"):
        text = (root / "docs" / "ci" / name).read_text()
        m = re.search(r"mmreview check .*?(?=\n\s*-? ?-? ?name:|\n  [a-z]+:|\Z)", text, re.S)
        assert m, name
        cmd = m.group().replace("\\\n", " ")
        cmd = re.sub(r"\$\{\{[^}]*\}\}|\"\$[^\"]*\"", "1", cmd)
        argv = shlex.split(cmd)[1:]
        args = parser.parse_args(argv)
        assert args.repo == "." and args.format in ("sarif", "junit") and args.database
        seen += 1
    assert seen == 2


def test_lore_message_id_input(capsys, fixtures_dir, tmp_path, monkeypatch):
    """A lore message-id: the thread comes from <base>/<msgid>/t.mbox.gz, here a local
    server answering with a recorded thread (never the internet)."""
    import http.server
    import json
    import threading
    body = (fixtures_dir / "mail" / "lore-thread.mbox.gz").read_bytes()
    asked = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200 if self.path.endswith("/t.mbox.gz") else 404)
            self.send_header("Content-Type", "application/gzip")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("MMREVIEW_LORE", f"http://127.0.0.1:{server.server_port}/all")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.delenv("HTTP_PROXY", raising=False)
        monkeypatch.delenv("http_proxy", raising=False)
        code, out, err = _run(capsys, "<v1-0-frob@example.org>", "--format", "json", "--budget", "0.3",
                              "--max-examples", "5", "--out", str(tmp_path / "t"))
    finally:
        server.shutdown()
    assert code in (0, 1), err
    rep = json.loads(out)
    assert asked and asked[0].replace("%40", "@").endswith("/v1-0-frob@example.org/t.mbox.gz")
    assert rep["patches"] and all(p["subject"].startswith("mm/frob") for p in rep["patches"])


def test_a_crash_of_the_check_is_exit_2_and_named(capsys, fixtures_dir, tmp_path, monkeypatch):
    """A bug of ours on one patch: the report says so for that patch, exit 2 (never a
    silent pass in CI), and the other outputs stay well-formed."""
    import xml.etree.ElementTree as ET
    import review.fuzz.search

    def broken(*a, **k):
        raise RuntimeError("simulated fuzzer bug")
    monkeypatch.setattr(review.fuzz.search, "search", broken)
    patch = str(fixtures_dir / "patches" / "0005-mm-page-flags-warn-when-clearing-exclusive-on-pinned-page.patch")
    args = [patch, "--tree", str(fixtures_dir / "ctree"), "--budget", "0.5", "--out", str(tmp_path)]
    code, out, err = _run(capsys, *args)
    assert code == 2 and "CHECK FAILED: RuntimeError: simulated fuzzer bug" in out
    code, out, _ = _run(capsys, *args, "--format", "junit")
    assert code == 2 and ET.fromstring(out).get("errors") == "1"
    code, out, _ = _run(capsys, *args, "--format", "checkpatch")
    assert out.startswith("-:1: ERROR: mmreview: check failed on [1/1]: RuntimeError")


@pytest.mark.parametrize("raw, words", [
    (b"\xff\xfe", "not UTF-8 text"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"steps": [', "not JSON"),
    (b'{"steps": [{"op": "read", "mm": 0, "vpn": 1' + b"0" * 5000 + b"}]}", "more than 4300 digits"),
], ids=["not-utf8", "deep", "cut", "digits"])
def test_a_broken_replay_trace_is_one_line_naming_it_and_exit_2(capsys, fixtures_dir, tmp_path, raw, words):
    trace = tmp_path / "trace.json"
    trace.write_bytes(raw)
    patch = fixtures_dir / "patches" / "0004-mm-memory-simplify-do_wp_page-reuse-checks.patch"
    code, out, err = _run(capsys, str(patch), "--tree", str(fixtures_dir / "ctree"), "--replay", str(trace))
    assert (code, out) == (2, "")
    assert err.startswith(f"mmreview check: {trace}: ") and err.count("\n") == 1
    assert words in err
