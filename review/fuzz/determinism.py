"""Same seed, same search: keep hypothesis's generation independent of which of our
modules happen to be imported.

hypothesis (6.131 and later) mixes literal constants collected from every imported
*local* module (anything outside site-packages and the stdlib, which includes this
project when it is installed editable, as `make` does) into the choices it draws.
So the same seed drew different traces from `mmreview fuzz`, from `mmreview check`
(which imports more of review/) and from the TUI's worker: measured on v5.9, seed 1,
3000 examples, a run after `import review.check.run, tui.app` found other traces than one
without. The fuzzer's draws are indices into small menus, where such constants add
nothing but noise, so the search runs with the local-constant pool held empty.

This reaches into hypothesis.internal (providers._get_local_constants and its cache);
if a later hypothesis drops them, `local_constants_frozen` does nothing and
reproducibility across entry points is no longer promised (tests/review/fuzz/test_fuzz.py
checks it).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

try:
    from hypothesis.internal.conjecture import providers
except ImportError:  # pragma: no cover - a hypothesis without the feature
    providers = None


@contextmanager
def local_constants_frozen() -> Iterator[None]:
    if providers is None:  # pragma: no cover
        yield
        return
    getter = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    constants_type = getattr(providers, "Constants", None)
    if getter is None or cache is None or constants_type is None:  # pragma: no cover
        yield
        return
    empty = constants_type()
    cache.cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = getter
        cache.cache.clear()
