"""An extracted assertion that tests folio_maybe_dma_pinned fires at a primitive.

Fixture patch 0005 adds VM_WARN_ON_ONCE_PAGE(page_maybe_dma_pinned(page)) to
ClearPageAnonExclusive; bound to clear_anon_exclusive, it must see the pinned.maybe
answer of the rule set (spec.primitives.page_ctx), not the DecisionContext default."""
from __future__ import annotations

import pytest

presets = pytest.importorskip("spec.presets")
kernel_mod = pytest.importorskip("spec.kernel")

from review.extract.rules import extract_patch  # noqa: E402
from review.inputs.load import load  # noqa: E402


def patch_rules(fixtures_dir, name):
    (patch,) = load(str(next((fixtures_dir / "patches").glob(name + "*")))).patches
    return extract_patch(patch, tree=str(fixtures_dir / "ctree"))


def fork_trace(pinned: bool) -> list:
    steps = [("mmap", dict(mm=1, vpn=0, npages=1, thp=False)),
             ("write", dict(mm=1, vpn=0, value=1))]
    if pinned:
        steps.append(("pin", dict(mm=1, vpn=0, write=True, longterm=True, id="p")))
    return steps + [("fork", dict(mm=1, child=2))]


def fired(rules, steps) -> list[list]:
    k = kernel_mod.Kernel(rules)
    out = []
    for op, args in steps:
        k.apply(op, args)
        out.append([(a.macro, str(a.condition), msg) for a, msg in k.assertion_failures])
    return out


@pytest.fixture()
def warn_rules(fixtures_dir):
    """0005's post-image assertions on top of `current`, and on top of 0001's post-image
    (fork shares exclusive pages without asking whether they may be pinned)."""
    pr5 = patch_rules(fixtures_dir, "0005")
    (warn,) = [a for a in pr5.post.assertions if a.macro == "VM_WARN_ON_ONCE_PAGE"]
    assert warn.primitive == "clear_anon_exclusive" and str(warn.condition) == "maybe_pinned"
    base = presets.PRESETS["current"]
    sharing = patch_rules(fixtures_dir, "0001").overlay(base, "post")
    return pr5.overlay(base, "post"), pr5.overlay(sharing, "post")


def test_warning_fires_when_fork_shares_a_pinned_exclusive_page(warn_rules):
    _, sharing = warn_rules
    log = fired(sharing, fork_trace(pinned=True))
    assert log[:-1] == [[], [], []]
    (hit,) = log[-1]                       # try_dup_anon_rmap -> ClearPageAnonExclusive
    assert hit[0] == "VM_WARN_ON_ONCE_PAGE" and hit[1] == "maybe_pinned"
    assert "clear_anon_exclusive" in hit[2] and "page-flags.h:39" in hit[2]


def test_warning_is_silent_without_a_pin_or_with_the_spec_rules(warn_rules):
    spec_rules, sharing = warn_rules
    # the same fork of an unpinned exclusive page clears the flag: no pin, no warning
    assert fired(sharing, fork_trace(pinned=False)) == [[], [], []]
    # current copies a pinned page at fork (folio_needs_cow_for_dma): nothing is cleared
    assert fired(spec_rules, fork_trace(pinned=True)) == [[], [], [], []]
