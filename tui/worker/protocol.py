"""What the TUI and its fuzz child (tui/worker/child.py) say to each other.

The TUI starts the child with `command()`. The child writes one JSON object per line
on its stdout:

    {"progress": {"done": s, "total": s}, "findings": [Finding JSON, ...]}   as it goes
                                          ("findings" only when they changed)
    {"result": PatchResult JSON, "stopped": bool}                           at the end
    {"error": "one line"}                                                    on bad input

SIGTERM (or SIGINT) asks it to stop: the searches end at their next example and the
findings so far are still in the final line.

Both sides import this module, and it imports neither of them.
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, fields

from review.model import Patch
from review.report.types import CheckFinding, PatchRef, PatchResult

CHILD_MODULE = "tui.worker.child"


@dataclass
class Progress:
    """How far one patch's check is: seconds spent of the budget, findings so far."""
    patch: Patch
    done: float
    total: float
    findings: list[CheckFinding]


def command(source: str, patch_key: str, *, seed: int = 0, repo: str | None = None,
            tree: str | None = None, budget: float | None = None) -> list[str]:
    """The child's command line: check the patch `patch_key` (review.model.patch_key)
    of `source`, read again as `mmreview tui` read it."""
    cmd = [sys.executable, "-m", CHILD_MODULE, source, patch_key, "--seed", str(seed)]
    if repo:
        cmd += ["--repo", repo]
    if tree:
        cmd += ["--tree", tree]
    if budget is not None:
        cmd += ["--budget", str(budget)]
    return cmd


# --- child -> TUI -----------------------------------------------------------------


def progress_line(done: float, total: float, findings: list[CheckFinding] | None = None) -> str:
    msg: dict = {"progress": {"done": done, "total": total}}
    if findings is not None:
        msg["findings"] = [f.to_json() for f in findings]
    return json.dumps(msg) + "\n"


def result_line(result: PatchResult, stopped: bool) -> str:
    out = {k: v for k, v in asdict(result).items() if k != "findings"}
    out["findings"] = [f.to_json() for f in result.findings]
    return json.dumps({"result": out, "stopped": stopped}) + "\n"


def error_line(text: str) -> str:
    return json.dumps({"error": text}) + "\n"


@dataclass
class Update:
    """One line from the child, read."""
    done: float | None = None               # progress
    total: float | None = None
    findings: list[CheckFinding] | None = None   # all so far, when they changed
    result: PatchResult | None = None       # the final line
    stopped: bool = False
    error: str = ""


def finding_from_json(obj: dict) -> CheckFinding:
    return CheckFinding.from_json(obj)


def result_from_json(obj: dict) -> PatchResult:
    res = PatchResult(PatchRef(**obj["patch"]))
    for f in fields(PatchResult):
        if f.name not in ("patch", "findings") and f.name in obj:
            setattr(res, f.name, obj[f.name])
    res.findings = [finding_from_json(f) for f in obj.get("findings", [])]
    return res


def read(line: str) -> Update:
    msg = json.loads(line)
    up = Update(error=msg.get("error", ""))
    if "findings" in msg:
        up.findings = [finding_from_json(f) for f in msg["findings"]]
    if "progress" in msg:
        up.done, up.total = msg["progress"]["done"], msg["progress"]["total"]
    if "result" in msg:
        up.result = result_from_json(msg["result"])
        up.stopped = bool(msg.get("stopped"))
    return up
