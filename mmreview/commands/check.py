"""mmreview check: pre-submit and CI check of patches against the spec (docs/check.md)."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from spec.errors import TraceError
from spec.presets import PRESETS

from review.check import integrations as hooks
from review.check.options import DEFAULT_BUDGET, DEFAULT_MAX_EXAMPLES, Options
from review.errors import InputError
from review.report import one_line
from review.report.formats import FORMAT_NAMES, render

from mmreview.commands.replay import load_trace_json
from mmreview.commands.sources import add_source_arguments, source_repo

HELP = "check patches: extract their rules and fuzz them against the spec (exit 1 on findings)"


def _positive(kind: type, what: str):
    """An argparse type: a positive `kind`, or one line saying what is wrong."""
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return v
    return parse


_positive_float = _positive(float, "a number")
_positive_int = _positive(int, "an integer")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="mbox, maildir, .patch/.eml file, '-' for one mail on stdin, a lore "
                        "message-id or URL; with --repo, also a revision range (A..B, -N, one commit)")
    add_source_arguments(p)
    p.add_argument("--format", choices=FORMAT_NAMES, default="text")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report here (default stdout)")
    p.add_argument("--budget", type=_positive_float, default=DEFAULT_BUDGET, metavar="SECONDS",
                   help=f"fuzzing time per patch (default {DEFAULT_BUDGET:g})")
    p.add_argument("--max-examples", type=_positive_int, default=DEFAULT_MAX_EXAMPLES, metavar="N",
                   help=f"traces per search at most, rounded up to hypothesis examples of 4 "
                        f"(default {DEFAULT_MAX_EXAMPLES})")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="same seed, same result (default 0)")
    p.add_argument("--database", metavar="DIR|redis://HOST:PORT/N",
                   help="hypothesis example database shared by runs (a directory or Redis)")
    p.add_argument("--workers", type=_positive_int, default=1, metavar="N",
                   help="check patches in N processes")
    p.add_argument("--exhaustive", type=_positive_int, default=0, metavar="DEPTH",
                   help="also explore every trace up to DEPTH steps (bounded, definite)")
    p.add_argument("--era", "--ruleset", dest="era", metavar="NAME",
                   help="check against this era's preset, whatever the patch's base says "
                        "(default: the era of the patch's base, docs/check.md)")
    p.add_argument("--reference", default="current", metavar="RULESET",
                   help="the rule set the post-image rules are compared with, as notes "
                        "(default current)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="list every note (by default, one line per kind per patch)")
    p.add_argument("--out", metavar="DIR",
                   help="where replay traces are written (default $XDG_CACHE_HOME/mmreview/check)")
    p.add_argument("--no-patch-ok", action="store_true",
                   help="an input without a patch (a cover letter) passes instead of exit 2")
    p.add_argument("--patch", type=_positive_int, default=1, metavar="N",
                   help="with --replay: which patch of INPUT the trace belongs to")
    p.add_argument("--replay", metavar="TRACE",
                   help="replay a trace written by check under the patch's rules, as JSON")
    p.add_argument("--b4-review-tip", metavar="REV",
                   help="with --repo: also write b4 review comments to .git/b4-review/<REV's sha>/")
    p.add_argument("--install-sendemail-hook", action="store_true",
                   help="install a git sendemail-validate hook running check (in --repo or .)")
    p.add_argument("--b4-config", action="store_true",
                   help="print the git config commands that make b4 run check on every patch")


def _progress(p) -> None:
    """One line per patch on a terminal, so a long series shows it is moving."""
    c = p.counts()
    print(f"mmreview check: [{p.patch.index}/{p.patch.total}] {one_line(p.patch.subject)[:60]}: "
          f"{c['error']}E {c['warning']}W {c['note']}N ({p.seconds:.1f} s)", file=sys.stderr)


def _check_args(args) -> list[str]:
    """Options to repeat in hooks and b4 commands."""
    out = []
    if args.budget is not None:
        out += ["--budget", f"{args.budget:g}"]
    if args.seed:
        out += ["--seed", str(args.seed)]
    if args.database:
        out += ["--database", args.database]
    return out


def run(args) -> int:
    # hypothesis and the extractor load only when patches are checked, not for
    # --b4-config or the hook install (start-up time)
    from review.check import run as C

    if args.b4_config:
        sys.stdout.write(hooks.b4_config_commands(_check_args(args)))
        return 0
    if args.install_sendemail_hook:
        path = hooks.install_sendemail_hook(args.repo or ".", _check_args(args))
        print(f"installed {path}")
        return 0
    if not args.inputs:
        raise InputError("no INPUT given (a patch file, an mbox, '-' for stdin, or --repo PATH A..B)")
    if args.b4_review_tip and not args.repo:
        raise InputError("--b4-review-tip needs --repo (b4 review works on a git branch)")
    for option, name in (("--reference", args.reference), ("--era", args.era)):
        if name and name not in PRESETS:
            raise InputError(f"{option} {name}: unknown rule set (known: {', '.join(PRESETS)})")
    out_dir = Path(args.out) if args.out else C.default_out_dir()
    repo = source_repo(args)
    hint_inputs = " ".join(shlex.quote(i) for i in args.inputs)
    if repo:
        hint_inputs = f"--repo {shlex.quote(repo)} {hint_inputs}"
    if args.base:
        hint_inputs += f" --base {shlex.quote(args.base)}"
    if args.tree:
        hint_inputs += f" --tree {shlex.quote(args.tree)}"
    if args.inputs == ["-"]:
        hint_inputs = "PATCH"  # stdin is gone by then: name the mail file instead
    opts = Options(budget=args.budget, max_examples=args.max_examples, seed=args.seed,
                   database=C.open_database(args.database), reference=args.reference,
                   era=args.era, exhaustive=args.exhaustive, out_dir=out_dir,
                   replay_hint=f"mmreview check {hint_inputs}", tree=args.tree, repo=repo,
                   base=args.base)
    if args.replay:
        trace = load_trace_json(args.replay)
        try:
            out = C.replay(args.inputs, trace, args.patch, opts, repo=repo)
        except TraceError as exc:
            raise InputError(f"{args.replay}: {exc}") from None
        sys.stdout.write(json.dumps(out, indent=1) + "\n")
        return 1 if out["violated"] else 0

    report, loaded = C.check(args.inputs, opts, repo=repo, workers=args.workers,
                             no_patch_ok=args.no_patch_ok,
                             on_patch=_progress if sys.stderr.isatty() else None)
    text = render(report, args.format, verbose=args.verbose)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    if args.b4_review_tip:
        diffs = [getattr(p, "diff_text", "") or "" for p in loaded.patches]
        where = hooks.write_b4_review(args.repo, args.b4_review_tip, report, diffs)
        print(f"b4 review comments written to {where}", file=sys.stderr)
    return report.exit_code
