"""The replay format: a trace is the JSON object

    {"ruleset": "current", "steps": [{"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}, ...]}

with, optionally, "free": {atom: bool} (the valuation of unmodelled atoms of extracted
rules, spec/expr.py Free) and descriptive header fields (name, about, source, expect)
used by the scenario library (docs/replay.md describes the format). This module is its
executable form: the op table (argument names, types, defaults) and a parser that
rejects malformed input with a TraceError naming the step.

What the parser checks is shape only (ops, argument names and types, ranges, THP
alignment). Whether a step makes sense in its state (an unknown pin id, an exited
process) is the kernel model's business; spec/run.py turns its StepError into a
TraceError with the step index.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from spec.errors import TraceError
from spec.state import HPAGE_NR

# Bounds that keep a hand-written (or hostile) trace from making the model loop for
# ever: the model walks ranges page by page.
MAX_VPN = 1 << 20          # addresses are page numbers below this
MAX_NPAGES = 4096          # pages per mmap/munmap/madvise/mprotect
MAX_STEPS = 100_000        # steps per trace

ADVICE = ("dontneed", "dontfork", "dofork", "wipeonfork", "pageout",
          "mergeable", "unmergeable", "hugepage", "nohugepage", "collapse")

# Argument kinds: "mm" (process id), "vpn" (page number), "npages", "int" (a value),
# "bool", "id" (a pin/reference name), "advice".
_REQUIRED = object()


@dataclass(frozen=True)
class Arg:
    name: str
    kind: str
    default: Any = _REQUIRED

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


def _a(name: str, kind: str, default: Any = _REQUIRED) -> Arg:
    return Arg(name, kind, default)


_RANGE = (_a("mm", "mm"), _a("vpn", "vpn"), _a("npages", "npages"))
_PAGE = (_a("mm", "mm"), _a("vpn", "vpn"))

# op -> its arguments, in the order a reader expects them. read and dma_read return a
# value; every op returns a status.
OPS: dict[str, tuple[Arg, ...]] = {
    "mmap": _RANGE + (_a("thp", "bool", False),),
    "munmap": _RANGE,
    "madvise": _RANGE + (_a("advice", "advice"),),
    "mprotect": _RANGE + (_a("write", "bool"),),
    "read": _PAGE,
    "write": _PAGE + (_a("value", "int"),),
    "fork": (_a("mm", "mm"), _a("child", "mm")),
    "exit": (_a("mm", "mm"),),
    "pin": _PAGE + (_a("write", "bool"), _a("longterm", "bool"), _a("id", "id")),
    "get": _PAGE + (_a("id", "id"),),
    "unpin": (_a("id", "id"),),
    "put": (_a("id", "id"),),
    "dma_read": (_a("id", "id"),),
    "dma_write": (_a("id", "id"), _a("value", "int")),
    "swapout": _PAGE,
    "swapin": _PAGE,
    "migrate": _PAGE,
    "ksm_merge": _PAGE + (_a("mm2", "mm"), _a("vpn2", "vpn")),
    "split_pmd": _PAGE,
    "split_folio": _PAGE,
}

# Ops after which the no-loss clause compares what every process would read.
NO_LOSS_OPS = frozenset({"swapout", "swapin", "migrate", "ksm_merge", "split_pmd", "split_folio"})
NO_LOSS_ADVICE = frozenset({"pageout", "collapse"})

HEADER_FIELDS = ("name", "about", "source", "expect", "comment")


@dataclass(frozen=True, slots=True)
class Step:
    """One operation: `op` and its arguments (defaults filled in)."""
    op: str
    args: Mapping[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.args[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)

    def to_json(self) -> dict:
        return {"op": self.op, **self.args}

    def __str__(self) -> str:
        return format_step(self)


@dataclass(frozen=True)
class Trace:
    steps: tuple[Step, ...]
    ruleset: str = "current"
    free: Mapping[str, bool] = field(default_factory=dict)
    header: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        out: dict[str, Any] = dict(self.header)
        out["ruleset"] = self.ruleset
        if self.free:
            out["free"] = dict(self.free)
        out["steps"] = [s.to_json() for s in self.steps]
        return out


def step(op: str, **args: Any) -> Step:
    """Build a checked step in Python (tests, the fuzzer): step("write", mm=0, vpn=0, value=1)."""
    return parse_step({"op": op, **args}, None)


def parse_trace(obj: Any) -> Trace:
    """Check and convert the JSON form of a trace (already decoded) into a Trace."""
    if not isinstance(obj, dict):
        raise TraceError(f"a trace is a JSON object, not {_json_type(obj)}")
    unknown = sorted(set(obj) - {"ruleset", "steps", "free", *HEADER_FIELDS})
    if unknown:
        raise TraceError(f"unknown top-level field {unknown[0]!r} "
                         f"(expected ruleset, steps, free, {', '.join(HEADER_FIELDS)})")
    ruleset = obj.get("ruleset", "current")
    if not isinstance(ruleset, str) or not ruleset:
        raise TraceError("ruleset must be a non-empty string")
    if "steps" not in obj:
        raise TraceError("missing field 'steps'")
    steps = obj["steps"]
    if not isinstance(steps, list):
        raise TraceError(f"steps must be a list, not {_json_type(steps)}")
    if len(steps) > MAX_STEPS:
        raise TraceError(f"{len(steps)} steps; at most {MAX_STEPS}")
    free = obj.get("free", {})
    if not isinstance(free, dict) or not all(
            isinstance(k, str) and k and isinstance(v, bool) for k, v in free.items()):
        raise TraceError("free must map atom names to true/false")
    header = {k: obj[k] for k in HEADER_FIELDS if k in obj}
    if "expect" in header:
        _check_expect(header["expect"])
    return Trace(tuple(parse_step(s, i) for i, s in enumerate(steps)), ruleset, dict(free), header)


def parse_step(obj: Any, index: int | None) -> Step:
    if not isinstance(obj, dict):
        raise TraceError(f"a step is a JSON object, not {_json_type(obj)}", index)
    op = obj.get("op")
    if not isinstance(op, str):
        raise TraceError("missing 'op'" if op is None else "op must be a string", index)
    spec = OPS.get(op)
    if spec is None:
        raise TraceError(f"unknown op {op!r} (known: {', '.join(OPS)})", index)
    names = {a.name for a in spec}
    extra = sorted(set(obj) - names - {"op"})
    if extra:
        raise TraceError(f"{op}: unknown argument {extra[0]!r} "
                         f"(takes {', '.join(a.name for a in spec)})", index)
    args: dict[str, Any] = {}
    for a in spec:
        if a.name not in obj:
            if a.required:
                raise TraceError(f"{op}: missing argument {a.name!r}", index)
            args[a.name] = a.default
            continue
        args[a.name] = _check_arg(op, a, obj[a.name], index)
    if op == "mmap" and args["thp"]:
        if args["vpn"] % HPAGE_NR or args["npages"] % HPAGE_NR:
            raise TraceError(f"mmap: a thp mapping starts at a multiple of {HPAGE_NR} and covers "
                             f"whole folios (vpn {args['vpn']}, npages {args['npages']})", index)
    if "npages" in args and args["vpn"] + args["npages"] > MAX_VPN:
        raise TraceError(f"{op}: range ends beyond vpn {MAX_VPN}", index)
    if op == "fork" and args["child"] == args["mm"]:
        raise TraceError("fork: child must differ from mm", index)
    return Step(op, args)


def _check_arg(op: str, a: Arg, v: Any, index: int | None) -> Any:
    where = f"{op}: {a.name}"
    if a.kind == "bool":
        if not isinstance(v, bool):
            raise TraceError(f"{where} must be true or false, not {_json_type(v)}", index)
        return v
    if a.kind == "id":
        if not isinstance(v, str) or not v:
            raise TraceError(f"{where} must be a non-empty string, not {_json_type(v)}", index)
        return v
    if a.kind == "advice":
        if v not in ADVICE:
            raise TraceError(f"{where}: unknown advice {v!r} (known: {', '.join(ADVICE)})", index)
        return v
    # integers; bool is a subclass of int in Python but not an integer in a trace
    if not isinstance(v, int) or isinstance(v, bool):
        raise TraceError(f"{where} must be an integer, not {_json_type(v)}", index)
    if a.kind in ("mm", "vpn") and not 0 <= v < MAX_VPN:
        raise TraceError(f"{where} must be in 0..{MAX_VPN - 1}, not {v}", index)
    if a.kind == "npages" and not 1 <= v <= MAX_NPAGES:
        raise TraceError(f"{where} must be in 1..{MAX_NPAGES}, not {v}", index)
    if a.kind == "int" and not -(1 << 63) <= v < (1 << 63):
        raise TraceError(f"{where} must fit in 64 bits", index)
    return v


def _check_expect(expect: Any) -> None:
    if not isinstance(expect, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v)
            for k, v in expect.items()):
        raise TraceError("expect must map rule-set names to lists of clause ids")


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return f"the number {v!r}"
    if isinstance(v, str):
        return f"the string {v[:40]!r}"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def format_step(s: Step) -> str:
    """One readable line: `write mm=0 vpn=0 value=7` (defaults left out)."""
    spec = OPS[s.op]
    parts = [s.op]
    for a in spec:
        v = s.args.get(a.name)
        if not a.required and v == a.default:
            continue
        parts.append(f"{a.name}={_fmt(v)}")
    return " ".join(parts)


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
