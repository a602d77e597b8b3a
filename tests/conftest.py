"""Test configuration shared by the whole suite.

hypothesis profiles: `ci` (derandomized, bounded, no deadline, no example database)
registered on top of hypothesis's built-in `ci` profile, which hypothesis itself
loads when CI=true; `dev` for local runs (random, with the local example database).
Choose with HYPOTHESIS_PROFILE=dev|ci. Long runs belong to `mmreview fuzz`.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
KERNEL = SHARED / "kernel" / "linux-5.17-rc5"

settings.register_profile(
    "ci",
    parent=settings.get_profile("ci"),
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# A pinned page shared at fork, then written by the parent: the pin keeps reading the
# old page (v5.8's bug, a check's finding). Tests of reports and of the TUI show it.
PIN_TRACE = {"ruleset": "current+post", "steps": [
    {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1},
    {"op": "write", "mm": 0, "vpn": 0, "value": 1},
    {"op": "pin", "mm": 0, "vpn": 0, "write": True, "longterm": True, "id": "p0"},
    {"op": "fork", "mm": 0, "child": 1},
    {"op": "write", "mm": 0, "vpn": 0, "value": 2},
    {"op": "dma_read", "id": "p0"},
], "violation_step": 5}
PIN_STEPS = ["mmap mm=0 vpn=0 npages=1", "write mm=0 vpn=0 value=1",
             "pin mm=0 vpn=0 write=true longterm=true id=p0", "fork mm=0 child=1",
             "write mm=0 vpn=0 value=2", "dma_read id=p0 -> 1"]


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def demo_mbox(fixtures_dir: Path) -> Path:
    """The bundled synthetic thread: two versions of a three-patch series with replies."""
    return fixtures_dir / "demo" / "anon-excl-cleanups.mbox"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """../shared/corpus, or skip cleanly when ../shared is absent."""
    if not (CORPUS / "cow-fixes-part2-v1.mbox").is_file():
        pytest.skip("../shared/corpus is not present")
    return CORPUS


@pytest.fixture(scope="session")
def kernel_tree() -> Path:
    """../shared/kernel/linux-5.17-rc5 (a subset of a kernel tree, read where it lies),
    or skip cleanly when ../shared is absent."""
    if not (KERNEL / "mm" / "memory.c").is_file():
        pytest.skip("../shared/kernel is not present")
    return KERNEL
