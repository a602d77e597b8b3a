"""Fetching a thread from lore (or any public-inbox) by message-id or URL.

liblore's LoreNode does the work: GET <base>/<msgid>/t.mbox.gz, gunzip, a
cache directory keyed by URL, requests' proxy handling (HTTPS_PROXY, NO_PROXY, ...
from the environment). Ours: deciding whether an INPUT is a message-id or URL,
the base URL choice (--lore or $MMREVIEW_LORE, either a base URL or b4's midmask
form 'https://host/all/%s'; else the inbox a URL names; else git config
b4.midmask; else lore.kernel.org/all), and
turning every network failure into one line naming the input.
"""
from __future__ import annotations

import logging
import os
import re
import subprocess
import urllib.parse
from pathlib import Path

from liblore import LibloreError, LoreNode, RemoteError
from liblore.utils import get_msgid_from_url

from review.errors import InputError

DEFAULT_BASE = "https://lore.kernel.org/all"
_MSGID = re.compile(r"^<?[^\s<>@/]+@[^\s<>@/]+>?$")


def is_lore_source(source: str) -> bool:
    """A lore/public-inbox URL, or a bare message-id (local@domain, optional <>)."""
    if source.startswith(("http://", "https://")):
        return True
    return bool(_MSGID.match(source)) and not os.path.exists(source)


def split_source(source: str, lore_base: str | None) -> tuple[str, str]:
    """(base URL, msgid) for a lore INPUT.

    A URL names its own inbox: the inbox of https://lore.kernel.org/linux-mm/<msgid>/
    is https://lore.kernel.org/linux-mm, the base used unless lore_base is given.
    """
    explicit = lore_base or os.environ.get("MMREVIEW_LORE")
    base = _from_midmask(explicit) if explicit else (_b4_midmask() or DEFAULT_BASE)
    lore_base = explicit
    if source.startswith(("http://", "https://")):
        msgid = get_msgid_from_url(source)
        if "@" not in msgid:
            raise InputError(f"{source}: no message-id in this URL")
        if not lore_base:
            parts = urllib.parse.urlsplit(source)
            path = parts.path.split("/")
            quoted = urllib.parse.quote(msgid, safe="@")
            # everything before the msgid path element is the inbox base
            for i, el in enumerate(path):
                if urllib.parse.unquote(el) == msgid or el == quoted:
                    base = f"{parts.scheme}://{parts.netloc}{'/'.join(path[:i])}"
                    break
        return base.rstrip("/"), msgid
    return base.rstrip("/"), source.strip().strip("<>")


def _from_midmask(value: str) -> str:
    """b4's midmask form ('https://lore.kernel.org/all/%s') or a plain base URL."""
    return value.split("%s", 1)[0].rstrip("/") if "%s" in value else value.rstrip("/")


def _b4_midmask() -> str | None:
    """b4.midmask from git config, as b4 itself would use it; None when unset."""
    try:
        out = subprocess.run(["git", "config", "--get", "b4.midmask"], capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return _from_midmask(value) if out.returncode == 0 and value.startswith(("http://", "https://")) else None


def default_cache_dir() -> str:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(root) / "mmreview" / "lore")


def fetch_thread(source: str, *, lore_base: str | None = None, cache_dir: str | None = None,
                 timeout: float = 20.0, cache_ttl: int = 24 * 3600) -> tuple[bytes, str, str]:
    """Return (mbox bytes, msgid, base URL) of the thread `source` names."""
    base, msgid = split_source(source, lore_base)
    cache = cache_dir or default_cache_dir()
    try:
        os.makedirs(cache, exist_ok=True)
    except OSError:
        cache = None  # caching is a convenience; a read-only home must not stop a review
    # liblore logs each failed host as a warning; with no logging configured Python
    # prints those on stderr, which would bury our one-line error. Quiet it here.
    log = logging.getLogger("liblore")
    saved = log.level
    log.setLevel(logging.ERROR)
    try:
        with LoreNode(base, cache_dir=cache, cache_ttl=cache_ttl,
                      request_timeout=(min(5.0, timeout), timeout),
                      follow_upstream=False) as node:
            node.set_user_agent("mmreview", "0")
            data = node.get_mbox_by_msgid(msgid)
    except RemoteError as exc:
        status = getattr(exc, "status_code", None)
        if status == 404:
            raise InputError(f"{source}: not found on {base}") from None
        if status:
            raise InputError(f"{source}: {base} answered HTTP {status}") from None
        raise InputError(f"{source}: cannot reach {base} ({_short(exc)})") from None
    except (LibloreError, OSError, ValueError) as exc:
        raise InputError(f"{source}: cannot fetch from {base} ({_short(exc)})") from None
    except Exception as exc:  # requests' own exceptions (InvalidURL, ...), gzip errors
        raise InputError(f"{source}: cannot fetch from {base} ({type(exc).__name__})") from None
    finally:
        log.setLevel(saved)
    if not data:
        raise InputError(f"{source}: {base} returned an empty thread")
    return data, msgid, base


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    # requests' messages nest the whole urllib3 repr; keep the reason only
    m = re.search(r"\[Errno [^\]]+\] ([^'\")]+)", text)
    if m:
        return m.group(1).strip()
    if "Connection refused" in text:
        return "connection refused"
    return text[:120]
