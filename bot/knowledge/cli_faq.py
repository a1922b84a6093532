"""`citizen-bot faq export --format yaml|xlsx|csv PATH` and `citizen-bot faq import PATH [--dry-run]`.

Export writes the live version (YAML: the intents/ files into the folder PATH). Import reads a folder
of intents/ YAML, a .yaml file, an .xlsx or a .csv into the draft; it prints the per-row report first,
and writes nothing when any row has an error (exit 1). --dry-run only prints the report (exit 1 on
errors).
"""
from __future__ import annotations

import sys
from pathlib import Path

from bot.knowledge import faq
from bot.knowledge.cli_kb import actor
from bot.knowledge.transfer import MODES
from bot.knowledge.versions import Versions


async def export(v: Versions, args) -> int:
    _, kn = await v.live_knowledge()
    path = Path(args.path)
    if args.format == "yaml":
        written = faq.write_yaml(kn, path)
        print(f"faq export: {len(written)} YAML files, {len(kn.topics)} topics in {path}")
    else:
        path.write_bytes(faq.export_bytes(kn, args.format))
        print(f"faq export: {sum(len(t.answers) or 1 for t in kn.topics)} rows to {path}")
    return 0


async def import_(v: Versions, args) -> int:
    path = Path(args.path)
    draft = await v.draft_body()
    if path.is_dir():
        plan = faq.plan_folder(path, draft, v.seeds, args.mode)
    else:
        plan = faq.plan_file(path.read_bytes(), path.name, draft, v.seeds, args.mode)
    print("\n".join(plan.lines()))
    print(f"（{faq.LIMITS['note']}）")
    if not plan.ok:
        print("faq import: errors above, nothing written", file=sys.stderr)
        return 1
    if args.dry_run:
        print("faq import: dry run, nothing written")
        return 0
    errors = await faq.apply(v, plan, actor(args))
    if errors:
        print("\n".join(errors))
        print("faq import: refused, nothing written", file=sys.stderr)
        return 1
    print(f"faq import: {len(plan.topics)} topics written to the draft (publish with `citizen-bot kb publish`)")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("faq", help="export or import the knowledge as YAML, XLSX or CSV")
    p.add_argument("--actor", help="who is acting (default: cli:<login>)")
    verbs = p.add_subparsers(dest="verb", required=True)
    e = verbs.add_parser("export", help="write the live knowledge to PATH")
    e.add_argument("--format", choices=faq.FORMATS, required=True)
    e.add_argument("path")
    e.set_defaults(kb=export)
    i = verbs.add_parser("import", help="read PATH into the draft (after a per-row report)")
    i.add_argument("path")
    i.add_argument("--dry-run", action="store_true", help="print the report only; exit 1 on errors")
    i.add_argument("--mode", choices=MODES, default="overwrite", help="existing topics: overwrite or skip")
    i.set_defaults(kb=import_)
