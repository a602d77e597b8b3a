"""The findings of the checks run during a review, kept beside its drafts: reopening
the same input shows them again, with their traces.

One JSON file per input (the drafts file's name, `.findings.json`), written
atomically on every completed or stopped check. Each patch's entry carries the
digest of the patch's diff (review.model.diff_digest): a patch whose diff is not the
one that was checked gets nothing back. A file that cannot be read is ignored (the
findings can be found again; the drafts are what must never be lost).
"""
from __future__ import annotations

import json
from pathlib import Path

from review.model import Patch, diff_digest, patch_key
from review.report.types import CheckFinding, PatchRef, PatchResult
from review.reviewer.files import atomic_write

FORMAT_VERSION = 1


def results_path(drafts_path: Path) -> Path:
    drafts_path = Path(drafts_path)
    return drafts_path.with_name(drafts_path.stem + ".findings.json")


class FindingsStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.patches: dict[str, dict] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("version") == FORMAT_VERSION:
                self.patches = dict(data.get("patches") or {})
        except (OSError, ValueError):
            pass

    def put(self, patch: Patch, findings: list[CheckFinding], result: PatchResult | None) -> None:
        """The findings of `patch`'s check; `result` when the check completed."""
        self.patches[patch_key(patch)] = {
            "digest": diff_digest(patch),
            "findings": [f.to_json() for f in findings],
            "complete": result is not None,
            "checked": list(result.checked) if result is not None else [],
            "skipped": result.skipped if result is not None else "",
        }
        atomic_write(self.path, json.dumps({"version": FORMAT_VERSION, "patches": self.patches},
                                           indent=1, ensure_ascii=False, sort_keys=True))

    def restore(self, patches: list[Patch]) -> tuple[dict[str, list[CheckFinding]], dict[str, PatchResult]]:
        """(findings by patch key, completed results by patch key) for the patches
        whose diff is the one that was checked."""
        findings: dict[str, list[CheckFinding]] = {}
        results: dict[str, PatchResult] = {}
        for n, patch in enumerate(patches, 1):
            entry = self.patches.get(patch_key(patch))
            if not isinstance(entry, dict) or entry.get("digest") != diff_digest(patch):
                continue
            try:
                found = [CheckFinding.from_json(f) for f in entry.get("findings", [])]
            except (TypeError, KeyError):
                continue
            findings[patch_key(patch)] = found
            if entry.get("complete"):
                ref = PatchRef(n, len(patches), patch.title, label=patch.label)
                results[patch_key(patch)] = PatchResult(ref, list(found), checked=list(entry.get("checked", [])),
                                                        skipped=entry.get("skipped", ""))
        return findings, results
