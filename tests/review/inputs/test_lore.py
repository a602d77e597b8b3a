"""lore access against a local HTTP server on 127.0.0.1 (never the internet)."""
from __future__ import annotations

import http.server
import socket
import threading
import urllib.parse

import pytest

from review.errors import InputError
from review.inputs.load import load
from review.inputs.lore import is_lore_source, split_source

MSGID = "v1-0-frob@example.org"


class _Handler(http.server.BaseHTTPRequestHandler):
    gz: bytes = b""
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.seen.append(self.path)
        path = urllib.parse.urlsplit(self.path).path  # a proxy sees absolute URLs
        if path.endswith(f"/{urllib.parse.quote_plus(MSGID)}/t.mbox.gz") or path.endswith(f"/{MSGID}/t.mbox.gz"):
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(len(self.gz)))
            self.end_headers()
            self.wfile.write(self.gz)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def server(fixtures_dir):
    _Handler.gz = (fixtures_dir / "mail" / "lore-thread.mbox.gz").read_bytes()
    _Handler.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch):
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy",
              "MMREVIEW_LORE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def test_source_detection(tmp_path):
    assert is_lore_source("<" + MSGID + ">") and is_lore_source(MSGID)
    assert is_lore_source("https://lore.kernel.org/linux-mm/" + MSGID + "/")
    f = tmp_path / "x@y"
    f.write_text("")
    assert not is_lore_source(str(f))
    assert split_source("https://lore.kernel.org/linux-mm/" + MSGID + "/T/#u", None) == (
        "https://lore.kernel.org/linux-mm", MSGID)
    assert split_source("<" + MSGID + ">", "https://example.org/all/") == ("https://example.org/all", MSGID)


def test_fetch_by_msgid_and_cache(server, tmp_path):
    httpd, base = server
    c = load(MSGID, lore_base=base + "/all", cache_dir=str(tmp_path))
    assert len(c.messages) == 9 and [s.version for s in c.series] == [1, 2]
    assert c.messages[0].source.startswith("lore:" + MSGID)
    assert len(_Handler.seen) == 1
    # cached: a second load does not ask the server
    c2 = load("<" + MSGID + ">", lore_base=base + "/all", cache_dir=str(tmp_path))
    assert len(c2.messages) == 9 and len(_Handler.seen) == 1


def test_fetch_by_url_uses_the_urls_inbox(server, tmp_path):
    httpd, base = server
    c = load(f"{base}/linux-mm/{MSGID}/", cache_dir=str(tmp_path))
    assert len(c.messages) == 9
    assert _Handler.seen[0].startswith("/linux-mm/")


def test_proxy_is_honoured(server, tmp_path, monkeypatch):
    httpd, base = server
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("HTTP_PROXY", base)
    c = load(MSGID, lore_base="http://lore.invalid/all", cache_dir=str(tmp_path))
    assert len(c.messages) == 9
    assert _Handler.seen[0].startswith("http://lore.invalid/all/")  # the proxy saw the absolute URL


def test_not_found_is_one_line(server, tmp_path):
    httpd, base = server
    with pytest.raises(InputError) as err:
        load("absent@example.org", lore_base=base + "/all", cache_dir=str(tmp_path))
    assert "absent@example.org" in str(err.value) and "\n" not in str(err.value)


def test_unreachable_server_is_one_line(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here now
    with pytest.raises(InputError) as err:
        load(MSGID, lore_base=f"http://127.0.0.1:{port}/all", cache_dir=str(tmp_path))
    msg = str(err.value)
    assert MSGID in msg and "cannot reach" in msg and "\n" not in msg


def test_midmask_forms(monkeypatch):
    assert split_source(MSGID, "https://example.org/all/%s") == ("https://example.org/all", MSGID)
    monkeypatch.setenv("MMREVIEW_LORE", "https://mirror.example/linux-mm/%s/")
    assert split_source(MSGID, None) == ("https://mirror.example/linux-mm", MSGID)
