"""Run one generated input through `mmreview show|extract|check|replay` and say what
went wrong, if anything.

An input runs in a sandbox: a fresh temporary directory as the working directory,
holding a copy of the input, with HOME, the XDG directories and TMPDIR pointed inside
it. Either in-process (mmreview.cli.main, the function behind every command, with its
own error path) or as the `mmreview` command in a subprocess. What must hold:
  - no traceback (nothing escapes main; no "Traceback" on stderr);
  - success is exit 0 (check and replay: 1 for findings) with nothing on stderr;
  - a failure is exit 2 with exactly one line on stderr, naming the input;
  - the input is byte-identical afterwards and the only new files are those the
    command declares (check's replay traces in $XDG_CACHE_HOME/mmreview/check).
"""
from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from hypothesis import strategies as st

from mmreview.cli import main
from tests.inputs_fuzz import strategies as S

MMREVIEW = Path(sys.executable).with_name("mmreview")
CLI_TIMEOUT = 120  # seconds: a hung command is a failure of its own
HANG_SECONDS = 60  # the same in-process, where SIGALRM interrupts the command


class Hung(BaseException):
    """Raised by SIGALRM in a command that took longer than HANG_SECONDS."""


def _interrupt(signum, frame):
    raise Hung()


@dataclass(frozen=True)
class Target:
    command: str
    file_name: str                                  # the input's name in the sandbox
    inputs: Callable[[], st.SearchStrategy[bytes]]
    options: tuple[str, ...] = ()                   # after the input on the command line
    exit_codes: frozenset[int] = frozenset({0})     # what success may exit with
    declared: tuple[str, ...] = ()                  # folders (sandbox-relative) it may write in


TARGETS: dict[str, Target] = {t.command: t for t in (
    Target("show", "input.mbox", S.mail_inputs, ("--format", "json")),
    Target("extract", "input.patch", S.patch_inputs, ("--format", "json")),
    # a tiny budget: the property is about reading the input, not about fuzzing the spec
    Target("check", "input.patch", S.patch_inputs, ("--budget", "0.01", "--max-examples", "2"),
           frozenset({0, 1}), ("home/.cache/mmreview/check",)),
    Target("replay", "trace.json", S.traces, (), frozenset({0, 1})),
)}


@dataclass
class Outcome:
    code: int | None        # None: an exception escaped main
    stdout: str
    stderr: str
    seconds: float
    traceback: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def crashed(self) -> bool:
        return bool(self.traceback) or "Traceback (most recent call last)" in self.stderr


def _files(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


@contextlib.contextmanager
def sandbox(target: Target, data: bytes) -> Iterator[tuple[Path, dict[str, str], list[str]]]:
    """(working directory, environment, problems found afterwards)."""
    with tempfile.TemporaryDirectory(prefix="mmreview-fuzz-") as tmp:
        root = Path(tmp)
        for d in ("cwd", "home", "tmp"):
            (root / d).mkdir()
        (root / "cwd" / target.file_name).write_bytes(data)
        env = {"HOME": str(root / "home"), "TMPDIR": str(root / "tmp"),
               "XDG_CACHE_HOME": str(root / "home" / ".cache"),
               "XDG_STATE_HOME": str(root / "home" / ".local" / "state"),
               "XDG_CONFIG_HOME": str(root / "home" / ".config"),
               "MMREVIEW_LORE": "http://127.0.0.1:9/",   # never the network
               "GIT_CEILING_DIRECTORIES": str(root)}
        before = _files(root)
        problems: list[str] = []
        yield root / "cwd", env, problems
        after = _files(root)
        if after.get(f"cwd/{target.file_name}") != data:
            problems.append("the input was changed")
        for name in sorted(set(after) - set(before)):
            if not any(name == d or name.startswith(d + "/") or d.startswith(name + "/")
                       for d in target.declared):
                problems.append(f"wrote {name} (not a declared output)")


def _argv(target: Target) -> list[str]:
    return [target.command, target.file_name, *target.options]


@contextlib.contextmanager
def _process_state(cwd: Path, env: dict[str, str]) -> Iterator[None]:
    """chdir, environment and tempfile's cached directory for one in-process run."""
    saved_cwd, saved_env, saved_tmp = os.getcwd(), dict(os.environ), tempfile.tempdir
    os.chdir(cwd)
    os.environ.update(env)
    tempfile.tempdir = env["TMPDIR"]
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        tempfile.tempdir = saved_tmp


def run_in_process(target: Target, data: bytes) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with sandbox(target, data) as (cwd, env, problems):
        start = time.perf_counter()
        with _process_state(cwd, env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            previous = signal.signal(signal.SIGALRM, _interrupt)
            signal.alarm(HANG_SECONDS)
            try:
                code, tb = main(_argv(target)), ""
            except Hung:
                code, tb = None, ""
                problems.append(f"no answer within {HANG_SECONDS} s:\n{traceback.format_exc()[-1500:]}")
            except BaseException:  # noqa: BLE001: whatever escapes main is the finding
                code, tb = None, traceback.format_exc()
            finally:
                signal.alarm(0)
                signal.signal(signal.SIGALRM, previous)
        seconds = time.perf_counter() - start
    outcome = Outcome(code, out.getvalue(), err.getvalue(), seconds, tb, problems)
    outcome.problems += judge(target, outcome)
    return outcome


def run_cli(target: Target, data: bytes) -> Outcome:
    with sandbox(target, data) as (cwd, env, problems):
        start = time.perf_counter()
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "HYPOTHESIS"))}
        try:
            proc = subprocess.run([str(MMREVIEW), *_argv(target)], cwd=cwd, env={**full_env, **env},
                                  stdin=subprocess.DEVNULL, capture_output=True, timeout=CLI_TIMEOUT)
            code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            code, stdout, stderr = -1, exc.stdout or b"", (exc.stderr or b"") + b"\n(timed out)"
        seconds = time.perf_counter() - start
    outcome = Outcome(code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"),
                      seconds, "", problems)
    outcome.problems += judge(target, outcome)
    return outcome


def judge(target: Target, o: Outcome) -> list[str]:
    """What is wrong with how the command ended (empty: nothing)."""
    if o.crashed:
        return [f"traceback:\n{o.traceback or o.stderr}"]
    if o.code is None:
        return []  # hung: said already
    if o.code in target.exit_codes:
        return [] if not o.stderr else [f"exit {o.code} with stderr {o.stderr!r}"]
    if o.code != 2:
        return [f"exit {o.code} (stderr {o.stderr[-500:]!r})"]
    lines = o.stderr.split("\n")
    if len(lines) != 2 or lines[1] != "":
        return [f"exit 2 with {len(lines) - 1} stderr lines, not one: {o.stderr[:500]!r}"]
    if not lines[0].startswith(f"mmreview {target.command}: ") or target.file_name not in lines[0]:
        return [f"exit 2 without naming {target.file_name}: {lines[0][:300]!r}"]
    return []


def run(target: Target, data: bytes, *, cli: bool = False) -> Outcome:
    return (run_cli if cli else run_in_process)(target, data)


def describe(o: Outcome) -> str:
    return "\n".join(o.problems)
