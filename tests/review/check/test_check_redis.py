"""--database redis://HOST:PORT/N: hypothesis's RedisExampleDatabase against a real
redis-server started here on 127.0.0.1 (skipped cleanly when none can be started)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from review.check.run import open_database


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    for _ in range(50):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if proc.poll() is not None:
                pytest.skip("redis-server could not be started")
            time.sleep(0.1)
    else:
        proc.terminate()
        pytest.skip("redis-server did not answer")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def test_redis_database_round_trip(redis_url):
    from hypothesis.extra.redis import RedisExampleDatabase
    db = open_database(redis_url)
    assert isinstance(db, RedisExampleDatabase)
    db.save(b"key", b"value")
    again = open_database(redis_url)  # a second runner of the fleet sees it
    assert list(again.fetch(b"key")) == [b"value"]


def test_check_stores_its_failures_in_redis(redis_url, fixtures_dir, tmp_path, capsys):
    """A CI fleet shares failures: the check's searches save what they found there."""
    import redis
    from mmreview.cli import main
    patch = fixtures_dir / "patches" / "0001-mm-rmap-share-exclusive-pages-at-fork.patch"
    code = main(["check", str(patch), "--tree", str(fixtures_dir / "ctree"), "--budget", "2", "--max-examples", "30",
                 "--seed", "0", "--database", redis_url, "--out", str(tmp_path)])
    capsys.readouterr()
    assert code == 1
    client = redis.Redis.from_url(redis_url)
    assert any(k.startswith(b"mmreview-check:") for k in client.keys())
