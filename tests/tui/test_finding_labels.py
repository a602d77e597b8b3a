"""The TUI's map of difference ids (tui/worker/analysis.py) is the registry's."""
from __future__ import annotations

from review.finding_ids import FINDING_IDS
from tui.worker.analysis import DIFFERENTIAL_IDS


def test_differences_are_shown_against_the_side_the_registry_names():
    assert DIFFERENTIAL_IDS == {"nfc-claim": "pre", "behaviour-change": "pre",
                                "reference-difference": "reference"}
    assert all(FINDING_IDS[fid].compared_with == side for fid, side in DIFFERENTIAL_IDS.items())
