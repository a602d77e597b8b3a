"""Extracted rules run in the spec: a fixture patch's overlay changes what the kernel
model does, and an extracted assertion fires at the primitive it is bound to."""
from __future__ import annotations

import pytest

presets = pytest.importorskip("spec.presets")
kernel_mod = pytest.importorskip("spec.kernel")

from review.extract import cparse  # noqa: E402
from review.extract.bindings import binding  # noqa: E402
from review.extract.rules import extract_function, extract_patch  # noqa: E402
from review.inputs.load import load  # noqa: E402

STEPS = {
    "mmap": dict(npages=1, thp=False),
    "pin": dict(write=False, longterm=False),
}


def run(rules, steps):
    k = kernel_mod.Kernel(rules)
    log = []
    for op, args in steps:
        full = dict(STEPS.get(op, {}))
        full.update(args)
        r = k.apply(op, full)
        log.append((op, r, list(k.outcomes), list(k.assertion_failures)))
    return k, log


def patch_rules(fixtures_dir, name):
    (patch,) = load(str(next((fixtures_dir / "patches").glob(name + "*")))).patches
    return extract_patch(patch, tree=str(fixtures_dir / "ctree"))


FORK_PINNED = [
    ("mmap", dict(mm=1, vpn=0)),
    ("write", dict(mm=1, vpn=0, value=1)),
    ("pin", dict(mm=1, vpn=0, write=True, longterm=True, id="p")),
    ("fork", dict(mm=1, child=2)),
    ("write", dict(mm=1, vpn=0, value=2)),
    ("dma_read", dict(id="p")),
]


def test_dropping_the_pin_check_makes_fork_share_a_pinned_page(fixtures_dir):
    base = presets.PRESETS["current"]
    pr = patch_rules(fixtures_dir, "0001")
    _, ref = run(base, FORK_PINNED)
    _, pre = run(pr.overlay(base, "pre"), FORK_PINNED)
    _, post = run(pr.overlay(base, "post"), FORK_PINNED)
    fork = 3
    assert ("fork.anon_pte", "copy") in ref[fork][2]
    assert ("fork.anon_pte", "copy") in pre[fork][2]       # the pre-image agrees with the spec
    assert ("fork.anon_pte", "share") in post[fork][2]     # the patch shares the pinned page
    assert ("fork.anon_pte", "copy") not in post[fork][2]
    # observable: the parent's write after fork no longer reaches its own pin
    assert ref[-1][1].value == 2 and pre[-1][1].value == 2
    assert post[-1][1].value == 1


RO_PIN_SHARED = [
    ("mmap", dict(mm=1, vpn=0)),
    ("write", dict(mm=1, vpn=0, value=1)),
    ("fork", dict(mm=1, child=2)),
    ("pin", dict(mm=1, vpn=0, id="p")),   # R/O, short-term
    ("write", dict(mm=1, vpn=0, value=2)),
    ("dma_read", dict(id="p")),
]


def test_ro_pins_that_skip_the_unshare_lose_the_parent(fixtures_dir):
    base = presets.PRESETS["current"]
    pr = patch_rules(fixtures_dir, "0002")
    _, pre = run(pr.overlay(base, "pre"), RO_PIN_SHARED)
    _, post = run(pr.overlay(base, "post"), RO_PIN_SHARED)
    assert ("gup.unshare", "unshare") in pre[3][2]
    assert ("gup.unshare", "pin") in post[3][2]
    assert pre[-1][1].value == 2 and post[-1][1].value == 1


def test_an_extracted_assertion_fires_at_its_primitive(fixtures_dir):
    """try_grab_page()'s VM_BUG_ON_PAGE (pinning a non-exclusive anon page) from the
    fixture tree, bound to pin_page: silent with the spec's rules, firing once the
    R/O-pin patch lets a shared page be pinned."""
    src = (fixtures_dir / "ctree/mm/gup.c").read_text()
    fn = next(f for f in cparse.functions(src) if f.name == "try_grab_page")
    fr = extract_function(fn, "mm/gup.c", "pre", "tree", binding("try_grab_page"))
    (rule,) = [a for a in fr.assertions if a.macro == "VM_BUG_ON_PAGE"]
    assert rule.primitive == "pin_page" and rule.provenance.line == 15
    base = presets.PRESETS["current"].with_overlay(assertions=(rule,))
    _, ok = run(base, RO_PIN_SHARED)
    assert all(not step[3] for step in ok)
    pr = patch_rules(fixtures_dir, "0002")
    _, bad = run(pr.overlay(base, "post"), RO_PIN_SHARED)
    fired = bad[3][3]
    assert len(fired) == 1 and fired[0][0] is rule
    assert "pin_page" in fired[0][1] and "mm/gup.c:15" in fired[0][1]
