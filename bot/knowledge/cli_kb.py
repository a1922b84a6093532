"""`citizen-bot kb versions|publish|rollback|diff|test|pin|unpin`: the knowledge versions from a shell."""
from __future__ import annotations

import getpass
import sys
import time

from bot.knowledge.diff import TopicDiff
from bot.knowledge.versions import PublishRejected, Versions

MARK = {"added": "+", "removed": "-", "changed": "~"}


def actor(args) -> str:
    return args.actor or f"cli:{getpass.getuser()}"


async def versions(v: Versions, args) -> int:
    live = await v.live_number()
    for i in await v.versions():
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(i.at))
        flag = "  (live)" if i.number == live else ""
        print(f"{i.number:>4}  {i.kind:<8} {when}  {i.actor:<16} {i.counts['topics']} topics  {i.note}{flag}")
    return 0


async def publish(v: Versions, args) -> int:
    try:
        number = await v.publish(args.note, actor(args))
    except PublishRejected as exc:
        print("\n".join(exc.problems))
        print(f"kb publish: refused, the draft has {len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"kb publish: version {number} is live")
    return 0


async def rollback(v: Versions, args) -> int:
    number = await v.rollback(args.number, actor(args), args.note or "")
    print(f"kb rollback: version {number} is live, with the content of version {args.number}")
    return 0


async def diff(v: Versions, args) -> int:
    for change in await v.diff(args.a, args.b):
        print(render(change))
    return 0


def render(change: TopicDiff) -> str:
    """[-deleted-]{+inserted+}, as git diff --word-diff shows it."""
    lines = [f"{MARK[change.change]} {change.topic} {change.title}"]
    for f in change.fields:
        text = "".join(t if op == "equal" else f"[-{t}-]" if op == "delete" else f"{{+{t}+}}" for op, t in f.ops)
        lines.append(f"    {f.field}: {text}")
    return "\n".join(lines)


async def test(v: Versions, args) -> int:
    """Golden questions against live and draft; exit 1 if any would fail on the draft."""
    from bot.understanding.brain import build_brain
    number = await v.live_number()
    live = build_brain(await v.knowledge(number))
    draft = build_brain(await v.draft_knowledge())
    report = await v.golden_report(live, draft)
    for r in report:
        state = "FAIL" if r["fails"] else "changes" if r["changes"] else "ok"
        got = r["draft"]
        print(f"{state:<8} {r['question']} -> {got['topic']} {got['city'] or ''} (pinned {r['topic']} {r['city'] or ''})")
    failed = sum(r["fails"] for r in report)
    print(f"kb test: {len(report)} golden question(s), {failed} failing on the draft, "
          f"{sum(r['changes'] for r in report)} with a changed answer")
    return 1 if failed else 0


async def pin(v: Versions, args) -> int:
    await v.pin(args.question, args.topic, args.city, actor(args))
    return 0


async def unpin(v: Versions, args) -> int:
    return 0 if await v.unpin(args.question, actor(args)) else 1


def add_parser(sub) -> None:
    kb = sub.add_parser("kb", help="knowledge versions: list, publish the draft, roll back, diff, test")
    kb.add_argument("--actor", help="who is acting (default: cli:<login>)")
    verbs = kb.add_subparsers(dest="verb", required=True)
    verbs.add_parser("versions", help="list the versions").set_defaults(kb=versions)
    p = verbs.add_parser("publish", help="check the draft and make it the live version")
    p.add_argument("--note", required=True)
    p.set_defaults(kb=publish)
    r = verbs.add_parser("rollback", help="a new version with the content of version N")
    r.add_argument("number", type=int)
    r.add_argument("--note")
    r.set_defaults(kb=rollback)
    d = verbs.add_parser("diff", help="changes from A to B (numbers, live or draft)")
    d.add_argument("a")
    d.add_argument("b")
    d.set_defaults(kb=diff)
    verbs.add_parser("test", help="golden questions against live and draft").set_defaults(kb=test)
    pn = verbs.add_parser("pin", help="pin a golden question to a topic (and city)")
    pn.add_argument("question")
    pn.add_argument("topic")
    pn.add_argument("city", nargs="?")
    pn.set_defaults(kb=pin)
    up = verbs.add_parser("unpin", help="drop a golden question")
    up.add_argument("question")
    up.set_defaults(kb=unpin)
