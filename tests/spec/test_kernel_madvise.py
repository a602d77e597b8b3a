"""madvise: dontneed, hugepage/nohugepage, errors."""
from __future__ import annotations

import pytest

from spec.errors import StepError
from spec.result import Result
from spec.state import VM_HUGEPAGE

from tests.spec.kernel_util import kernel, step, violations


def test_dontneed_zeroes_and_frees():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=2)
    step(k, "write", mm=0, vpn=0, value=1)
    assert step(k, "madvise", mm=0, vpn=0, npages=1, advice="dontneed") == Result()
    assert k.state.folios == {} and step(k, "read", mm=0, vpn=0).value == 0
    assert step(k, "madvise", mm=0, vpn=1, npages=3, advice="dontneed").status == "ENOMEM"


def test_dontneed_of_a_whole_thp_drops_the_pmd():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "madvise", mm=0, vpn=0, npages=4, advice="dontneed")
    assert not k.state.mms[0].pmds and k.state.folios == {} and not violations(k)


def test_hugepage_advice_enables_thp_faults_and_nohugepage_disables_them():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=8)
    step(k, "madvise", mm=0, vpn=0, npages=8, advice="hugepage")
    assert all(f & VM_HUGEPAGE for f in k.state.mms[0].vmas.values())
    step(k, "write", mm=0, vpn=1, value=1)
    assert 0 in k.state.mms[0].pmds
    step(k, "madvise", mm=0, vpn=4, npages=4, advice="nohugepage")
    step(k, "write", mm=0, vpn=5, value=2)
    assert 1 not in k.state.mms[0].pmds and 5 in k.state.mms[0].ptes


def test_unknown_advice_is_a_step_error():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1)
    with pytest.raises(StepError, match="advice"):
        step(k, "madvise", mm=0, vpn=0, npages=1, advice="free")
