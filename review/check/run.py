"""`mmreview check`: per patch, extract its rules and fuzz them.

Modules: run.py (this: inputs, jobs, one patch's check, workers, database), options.py
(what a run is asked to do: budgets, bounds, seeds), patch.py (one patch: searches and
findings), overlay.py (extracted rules over a preset: valuations, changed and
implicated rules), place.py (where a finding points), explore.py (the quick
shortest-trace pass), nfc.py (claims of no functional change), replay.py (a written
trace run again under its patch's rules).

For every patch of the input:
  1. extract the pre- and post-image rules of the bound functions it touches
     (review/extract), with their unmodelled atoms and what was partial;
  2. build overlays on the reference rule set: `<ref>+pre` and `<ref>+post`;
  3. shortest traces first (review/check/explore.py): every trace of up to 5 steps
     over the operations that reach what the patch touches, the pre-image session
     beside the post-image one, so only violations the patch introduces count, and
     pre/post differences; then
     fuzz (review/fuzz.search) for the rest of the budget:
     (a) invariants: the post-image rules against the contract and the internal
         invariants (and the patch's own assertions);
         reference: the post-image rules against the reference rule set;
     (b) differential: pre- against post-image rules: an observable difference is a
         behaviour change, and a finding of its own when the commit message claims
         no functional change (review/check/nfc.py);
  every search runs once per valuation of the unmodelled atoms (both ways for each,
  up to MAX_FREE_ATOMS atoms exhaustively, then all-true/all-false plus seeded
  random valuations);
  4. turn what the fuzzer found into report Findings: severity, the implicated rule
     with the patch's file and line (the guarded outcome that fired on the trace; the
     changed rule when one fired), the shrunk trace written to a replay file.

Search budgets are per patch (--budget seconds, split over its searches; each search
also stops at --max-examples). Seeds are derived from --seed, the patch's position
and the search, so the result does not depend on --workers or on other patches.
"""
from __future__ import annotations

import io
import multiprocessing as mp
import os
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

from hypothesis.database import DirectoryBasedExampleDatabase

from spec.presets import PRESETS
from spec.trace import parse_trace

from review.check.options import Options
from review.check.patch import PatchChecker, PatchJob
from review.check.replay import replay_trace, ruleset_parts
from review.errors import InputError
from review.extract.rules import PatchRules, extract_patch, extract_with
from review.extract.sources import Base, whole_functions_hint
from review.fuzz import search as fuzzer
from review.inputs.load import load
from review.model import diff_digest
from review.report.types import CheckReport, PatchRef, PatchResult
from review.verify import search as exhaustive


# --- the whole run --------------------------------------------------------------------

def extract_patches(patches: list, tree: str | None = None, *,
                    base: Base | None = None) -> list[tuple[PatchRules | None, str]]:
    """review.extract.rules over one input's patches as a series, whole files from
    `base` (else `tree`): each patch's pre-image is, failing better, the file as the
    earlier patches left it. A patch whose extraction fails is reported as such; the
    others are still checked."""
    if base is None:
        with Base(tree=tree) as own:
            return extract_patches(patches, base=own)
    try:
        return [(r, "") for r in extract_with(patches, base)]
    except InputError:
        raise
    except Exception:
        pass
    out = []
    for p in patches:
        try:
            out.append((extract_patch(p, base=base), ""))
        except InputError:
            raise
        except Exception as exc:  # extraction must not take the whole run down
            out.append((None, f"{type(exc).__name__}: {exc}"))
    return out


@dataclass
class Loaded:
    patches: list            # review.model.Patch, in input order
    sources: list[str]       # the INPUT each came from
    mail_lines: list         # per patch: the mail's lines as given, or None
    notes: list[str]


def load_inputs(inputs: list[str], *, repo: str | None = None, stdin=None) -> Loaded:
    patches, sources, mails, notes = [], [], [], []
    for source in inputs:
        raw = None
        stream = None
        if source == "-":
            raw = (stdin or sys.stdin.buffer).read()
            stream = io.BytesIO(raw)
        coll = load(source, repo=repo, stdin=stream)
        notes.extend(getattr(coll, "notes", []) or [])
        ps = [p for p in coll.patches if not getattr(p, "inline", False)]
        if raw is None and len(ps) == 1 and source != "-" and Path(source).is_file():
            try:
                raw = Path(source).read_bytes()
            except OSError:
                raw = None
        for p in ps:
            patches.append(p)
            sources.append(source)
            if raw is not None and len(ps) == 1:
                mails.append(raw.decode("utf-8", "replace").splitlines())
            else:
                mails.append(None)
    return Loaded(patches, sources, mails, notes)


def patch_ref(p, i: int, n: int, source: str) -> PatchRef:
    """How the report names patch `p`, the i-th of n taken from `source`."""
    msg = getattr(p, "message", None)
    return PatchRef(index=i, total=n, subject=getattr(p, "title", "") or "(no subject)",
                    source=source, msgid=getattr(msg, "msgid", "") if msg else "",
                    commit=getattr(p, "commit", "") or "", label=_label(p))


def _label(p) -> str:
    label = getattr(p, "label", "") or ""
    # a lone "v1" says nothing the subject does not
    return "" if label.startswith("v") and label[1:].isdigit() else label


def make_jobs(loaded: Loaded, tree: str | None = None, *, base: Base | None = None) -> list[PatchJob]:
    """One job per patch, its rules extracted with the other patches of its input."""
    if base is None:
        with Base(tree=tree) as own:
            return make_jobs(loaded, base=own)
    n = len(loaded.patches)
    extracted: list[tuple[PatchRules | None, str]] = []
    i = 0
    while i < n:  # one series per input
        j = i
        while j < n and loaded.sources[j] == loaded.sources[i]:
            j += 1
        extracted += extract_patches(loaded.patches[i:j], base=base)
        i = j
    jobs = []
    for k, (p, src, mail) in enumerate(zip(loaded.patches, loaded.sources, loaded.mail_lines), 1):
        rules, err = extracted[k - 1]
        jobs.append(PatchJob(patch_ref(p, k, n, src), p, rules, mail, err))
    return jobs


def open_base(opts: Options) -> Base:
    """Where the run reads whole files from (--repo, --base, --tree); bad ones are an
    InputError naming them."""
    return Base(repo=opts.repo, tree=opts.tree, rev=opts.base)


# The jobs of the current run, inherited by forked workers (--workers N).
_JOBS: list[PatchJob] = []
_OPTS: Options | None = None


def check_patch(job: PatchJob, opts: Options, *,
                on_progress: Callable[[PatchResult], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> PatchResult:
    """One patch's check (the quick pass, the fuzzer's searches, the exhaustive pass
    when asked), as `mmreview check` runs it for each patch and the TUI for the patch
    in view. `on_progress` gets the result so far after each round of a search;
    `should_stop()` ends every search at its next example."""
    report_progress = on_progress

    def observed_search(*args, on_progress: Callable[[dict], None] | None = None, **kwargs) -> list:
        """review.fuzz.search.search that also tells the caller how the check goes."""
        def progress(state: dict) -> None:
            if on_progress is not None:
                on_progress(state)              # PatchChecker counts the traces run
            if report_progress is not None:
                report_progress(checker.result)
        # looked up now, not at import, so that a test can stand in for the search
        return fuzzer.search(*args, on_progress=progress, should_stop=should_stop, **kwargs)

    checker = PatchChecker(job, opts, PRESETS, observed_search, exhaustive.verify)
    return checker.run()


def _run_one(index: int) -> PatchResult:
    job = _JOBS[index]
    try:
        return check_patch(job, _OPTS)
    except InputError:
        raise
    except Exception as exc:  # a bug of ours must not hide the other patches' results
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return PatchResult(job.ref, error=f"{type(exc).__name__}: {exc} "
                                          f"({Path(where.filename).name}:{where.lineno})")


def run_jobs(jobs: list[PatchJob], opts: Options, workers: int = 1,
             on_patch: Callable[[PatchResult], None] | None = None) -> list[PatchResult]:
    global _JOBS, _OPTS
    _JOBS, _OPTS = jobs, opts
    if workers <= 1 or len(jobs) <= 1:
        out = []
        for i in range(len(jobs)):
            r = _run_one(i)
            if on_patch:
                on_patch(r)
            out.append(r)
        return out
    # fork: workers inherit the extracted jobs and the options (rule sets hold
    # closures, which do not pickle); results are plain dataclasses.
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        out = list(pool.map(_run_one, range(len(jobs))))
    if on_patch:
        for r in out:
            on_patch(r)
    return out


def open_database(spec: str | None):
    """--database DIR or redis://HOST:PORT/N -> a hypothesis ExampleDatabase."""
    if not spec:
        return None
    if spec.startswith("redis://"):
        try:  # redis is optional: only a redis:// database needs it
            import redis
            from hypothesis.extra.redis import RedisExampleDatabase
        except ImportError as exc:
            raise InputError(f"{spec}: the redis package is not installed ({exc.name})") from None
        try:
            client = redis.Redis.from_url(spec, socket_connect_timeout=3)
            client.ping()
        except Exception as exc:
            raise InputError(f"{spec}: cannot reach redis ({exc})") from None
        return RedisExampleDatabase(client, key_prefix=b"mmreview-check:")
    path = Path(spec)
    if path.exists() and not path.is_dir():
        raise InputError(f"{spec}: not a directory")
    return DirectoryBasedExampleDatabase(str(path))


def default_out_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mmreview" / "check"


def check(inputs: list[str], opts: Options, *, repo: str | None = None, stdin=None,
          workers: int = 1, no_patch_ok: bool = False,
          on_patch: Callable[[PatchResult], None] | None = None) -> tuple[CheckReport, Loaded]:
    with open_base(opts) as base:
        loaded = load_inputs(inputs, repo=repo, stdin=stdin)
        if not loaded.patches and not no_patch_ok:
            raise InputError(f"{' '.join(inputs)}: no patch found")
        jobs = make_jobs(loaded, base=base)   # before the workers fork: they inherit the rules
        notes = list(base.notes)
        if loaded.patches and not base.whole:
            notes.append(whole_functions_hint("mmreview check INPUT"))
    results = run_jobs(jobs, opts, workers, on_patch)
    try:
        v = version("mmreview")
    except PackageNotFoundError:
        v = ""
    report = CheckReport(results, seed=opts.seed, budget=opts.budget,
                         max_examples=opts.max_examples, reference=opts.reference,
                         inputs=list(inputs), tool_version=v, notes=notes)
    return report, loaded


def replay(inputs: list[str], trace_obj: dict, patch_index: int, opts: Options, *,
           repo: str | None = None, stdin=None) -> dict:
    """Replay a trace written by `check` under the rules it names (`<ref>+post`,
    `<ref>+pre` or a preset), re-extracted from the same input; also under the
    other image, so a differential finding shows both sides (review/check/replay.py)."""
    loaded = load_inputs(inputs, repo=repo, stdin=stdin)
    if not 1 <= patch_index <= len(loaded.patches):
        raise InputError(f"--patch {patch_index}: the input has {len(loaded.patches)} patch(es)")
    same = [p for p, src in zip(loaded.patches, loaded.sources)
            if src == loaded.sources[patch_index - 1]]
    with open_base(opts) as base:
        rules, err = extract_patches(same, base=base)[same.index(loaded.patches[patch_index - 1])]
    if rules is None:
        raise InputError(f"patch {patch_index}: extraction failed ({err})")
    trace = parse_trace(trace_obj)
    _, _, key = ruleset_parts(trace)
    patch = loaded.patches[patch_index - 1]
    want = diff_digest(patch)
    if key and key != want:
        raise InputError(f"trace: written for another patch (key {key}, patch {patch_index} "
                         f"has {want}); pick the right one with --patch N")
    return replay_trace(trace, patch, rules).to_json()
