"""`mmreview replay` and the later vocabulary: malformed use of each new op and
argument is one line naming the file and step, exit 2; every new op replays."""
from __future__ import annotations

import json

import pytest

from mmreview.cli import main

MMAP = {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}
BAD = [
    ({"op": "poke", "mm": 0, "vpn": 0}, "poke: missing argument 'value'"),
    ({"op": "poke", "mm": 3, "vpn": 0, "value": 1}, "step 1: "),
    ({"op": "clear_softdirty", "mm": "x"}, "clear_softdirty: mm must be an integer"),
    ({"op": "softdirty", "mm": 0, "vpn": 0, "value": 1}, "softdirty: unknown argument 'value'"),
    ({"op": "mremap", "mm": 0, "vpn": 0, "npages": 1, "new_vpn": 1 << 40}, "mremap: new_vpn"),
    ({"op": "mremap", "mm": 0, "vpn": 0, "npages": 1}, "mremap: missing argument 'new_vpn'"),
    ({"op": "swapoff", "mm": 0}, "swapoff: unknown argument 'mm'"),
    ({"op": "pte", "mm": 0}, "pte: missing argument 'vpn'"),
    ({"op": "pfn", "mm": 0, "vpn": -1}, "pfn: vpn must be in"),
    ({"op": "writeback", "mm": 0, "vpn": True}, "writeback: vpn must be an integer"),
    ({**MMAP, "vpn": 4, "prot": "rwx"}, "mmap: prot: unknown protection 'rwx'"),
    ({**MMAP, "vpn": 4, "backing": "ext4"}, "unknown backing 'ext4'"),
    ({**MMAP, "vpn": 4, "npages": 4, "thp": True, "hugetlb": True}, "thp and hugetlb exclude"),
    ({**MMAP, "vpn": 4, "npages": 2, "hugetlb": True}, "a hugetlb mapping starts at a multiple"),
    ({**MMAP, "vpn": 4, "thp_order": 1}, "thp_order needs thp=true"),
    ({**MMAP, "vpn": 4, "npages": 4, "thp": True, "backing": "file"}, "thp is modelled for private"),
    ({**MMAP, "vpn": 4, "npages": 4, "hugetlb": True, "backing": "shmem"}, "hugetlb mapping is anonymous"),
    ({"op": "mprotect", "mm": 0, "vpn": 0, "npages": 1, "write": True, "prot": "r"},
     "give exactly one of 'write' and 'prot'"),
    ({"op": "mprotect", "mm": 0, "vpn": 0, "npages": 1}, "give exactly one of 'write' and 'prot'"),
    ({"op": "pin", "mm": 0, "vpn": 0, "write": False, "longterm": False, "id": "p", "fast": "yes"},
     "pin: fast must be true or false"),
    ({"op": "get", "mm": 0, "vpn": 0, "id": "g", "write": 1}, "get: write must be true or false"),
    ({"op": "get", "mm": 0, "vpn": 0, "id": "g", "force": None}, "get: force must be true or false"),
]


@pytest.mark.parametrize("bad, words", BAD)
def test_malformed_later_step_is_one_line_exit_2(tmp_path, capsys, bad, words):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"steps": [MMAP, bad]}))
    code = main(["replay", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"mmreview replay: {path}: step 1: ")
    assert words in err


def test_every_later_op_replays(tmp_path, capsys):
    steps = [
        {**MMAP, "backing": "file", "shared": True}, {"op": "write", "mm": 0, "vpn": 0, "value": 1},
        {"op": "mmap", "mm": 0, "vpn": 4, "npages": 4, "hugetlb": True},
        {"op": "mmap", "mm": 0, "vpn": 8, "npages": 4, "thp": True, "thp_order": 1},
        {"op": "mmap", "mm": 0, "vpn": 1, "npages": 1, "prot": "r"},
        {"op": "poke", "mm": 0, "vpn": 1, "value": 2}, {"op": "clear_softdirty", "mm": 0},
        {"op": "mprotect", "mm": 0, "vpn": 8, "npages": 1, "prot": "none"},
        {"op": "pin", "mm": 0, "vpn": 4, "write": True, "longterm": True, "id": "p", "fast": True},
        {"op": "get", "mm": 0, "vpn": 0, "id": "g", "write": True, "force": True},
        {"op": "writeback", "mm": 0, "vpn": 0}, {"op": "mremap", "mm": 0, "vpn": 1, "npages": 1,
                                                 "new_vpn": 2},
        {"op": "swapoff"}, {"op": "softdirty", "mm": 0, "vpn": 2}, {"op": "pte", "mm": 0, "vpn": 2},
        {"op": "pfn", "mm": 0, "vpn": 2},
    ]
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"ruleset": "current", "steps": steps}))
    code = main(["replay", str(path)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["violations"] == []
    assert [r["op"] for r in doc["results"]] == [s["op"] for s in steps]
    assert doc["results"][-2]["value"].startswith("present")
