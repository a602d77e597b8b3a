"""What one run of `mmreview check` is asked to do: the options, their defaults, the
budget and bounds per patch, and the seeds derived from --seed."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BUDGET = 3.0    # seconds per patch: 15 patches in < 60 s on 2 cores
DEFAULT_MAX_EXAMPLES = 400
QUICK_DEPTH = 5         # the quick exhaustive pass (review/check/explore.py)
QUICK_SHARE = 0.7       # of the budget, at most, before the fuzzer takes over
QUICK_MAX_STATES = 5000 # per pass: the bound that decides, so that results repeat
QUICK_MIN_SECONDS = 1.5 # per pass, whatever the budget: the clock is only a safety net


@dataclass
class Options:
    budget: float = DEFAULT_BUDGET
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int = 0
    database: object = None        # a hypothesis ExampleDatabase, or None
    reference: str = "current"     # what the post-image rules are compared with (notes)
    era: str | None = None         # --era: the preset to check against (None: the patch's era)
    exhaustive: int = 0            # --exhaustive DEPTH (0: off)
    out_dir: Path | None = None    # where replay traces are written
    replay_hint: str = ""          # "mmreview check INPUT" prefix of replay commands
    tree: str | None = None        # --tree: a kernel tree to read whole files from
    repo: str | None = None        # --repo (or the kernel checkout the command runs in): whole
                                   # files, and where a base commit's version is read
    base: str | None = None        # --base REV of that repository (default: HEAD)


def derive_seed(seed: int, *parts: object) -> int:
    """The seed of one search: from --seed, the patch's position and the search, so
    that a patch's result depends neither on --workers nor on the other patches."""
    h = hashlib.sha256(repr((seed,) + parts).encode()).digest()
    return int.from_bytes(h[:4], "big")
