"""`citizen-bot bench match|http|startup`: each prints a table of medians, p99 and ratios against its
baseline measured in the same run (docs/performance.md holds the last results and how to read them)."""
from __future__ import annotations

import argparse
from pathlib import Path

from bot.settings import ROOT

DATA = ROOT / "tests" / "data"      # the development question sets (the blind holdout is not used)


def add_parser(sub) -> None:
    bench = sub.add_parser("bench", help="benchmarks against a same-run baseline (docs/performance.md)")
    kinds = bench.add_subparsers(dest="bench", required=True)
    match = kinds.add_parser("match", help="the matcher against brute force, at N times the knowledge")
    match.add_argument("--times", default="1,10,100", help="comma-separated sizes (default 1,10,100)")
    http = kinds.add_parser("http", help="req/s of serve against a bare aiohttp handler (needs wrk)")
    http.add_argument("--seconds", type=int, default=8)
    http.add_argument("--connections", type=int, default=8)
    http.add_argument("--workers", type=int, default=1)
    startup = kinds.add_parser("startup", help="launch to first answer, and RSS, against bare aiohttp")
    startup.add_argument("--repeats", type=int, default=3)
    for p in (match, http, startup):
        p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = Path(args.root) if args.root else ROOT
    if args.bench == "match":
        from bot.bench import match
        print(match.HEADER)
        match.run(root, DATA, [int(n) for n in args.times.split(",")])
    elif args.bench == "http":
        from bot.bench import http
        print(http.report(http.run(root, DATA, args.seconds, args.connections, args.workers)))
    else:
        from bot.bench import startup
        print(startup.report(startup.run(root, args.repeats)))
    return 0
