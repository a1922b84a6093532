"""`citizen-bot serve|ask|chat|check|eval`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import knowledge, validation

ROOT = Path(__file__).resolve().parent.parent


def cmd_check(args) -> int:
    try:
        kn = knowledge.load(Path(args.root))
        found = validation.problems(kn)
    except knowledge.KnowledgeError as exc:
        found = exc.problems
    for p in found:
        print(p)
    if found:
        print(f"check: {len(found)} problem(s)", file=sys.stderr)
        return 1
    answers = sum(len(t.answers) for t in kn.topics)
    print(f"check: ok — {len(kn.topics)} topics, {answers} city-answers, {len(kn.seeds)} briefings")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="citizen-bot", description=__doc__)
    ap.add_argument("--root", default=str(ROOT), help="folder holding seeds/ and intents/")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="validate seeds/ and intents/").set_defaults(func=cmd_check)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
