"""citizen-bot serve|ask|chat|check|eval|kb|faq|user — see `citizen-bot COMMAND --help`."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import yaml

from bot.admin import cli_user as user_cli
from bot.bench import cli as bench_cli
from bot.knowledge import check as validation
from bot.knowledge import cli_faq as faq_cli
from bot.knowledge import cli_kb as kb_cli
from bot.knowledge import load as knowledge
from bot.settings import Settings, SettingsError


def _settings(args) -> Settings:
    settings = Settings.from_env()
    return replace(settings, knowledge_root=Path(args.root)) if args.root else settings


def cmd_check(args) -> int:
    root = Path(args.root) if args.root else Settings.from_env().knowledge_root
    try:
        kn = knowledge.load(root)
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


async def _ask(args) -> int:
    from bot.app import open_dialogue
    from bot.models import Inbound
    async with open_dialogue(_settings(args)) as dialogue:
        reply = await dialogue.handle(Inbound("cli", args.user or "cli-" + uuid.uuid4().hex[:8], args.question))
    print(json.dumps(reply.to_json(), ensure_ascii=False, indent=2) if args.json else reply.text)
    if not args.json and reply.suggestions:
        print("你还可以问：" + " | ".join(reply.suggestions))
    return 0


async def _chat(args) -> int:
    from bot.app import open_dialogue
    from bot.models import Inbound
    user = args.user or "cli-" + uuid.uuid4().hex[:8]
    print("输入问题后回车；输入 exit 或按 Ctrl-D 退出。")
    async with open_dialogue(_settings(args)) as dialogue:
        while True:
            try:
                line = await asyncio.to_thread(input, "你：")
            except EOFError:
                break
            if line.strip().lower() in ("exit", "quit"):
                break
            reply = await dialogue.handle(Inbound("cli", user, line))
            print("机器人：" + reply.text)
            if reply.suggestions:
                print("  可以接着问：" + " | ".join(reply.suggestions))
    return 0


async def _eval(args) -> int:
    from bot.app import open_dialogue
    from bot.dialogue.evaluation import run_cases
    cases = yaml.safe_load(Path(args.cases).read_text(encoding="utf-8"))
    async with open_dialogue(_settings(args)) as dialogue:
        report = await run_cases(dialogue, cases)
    print("\n".join(report.lines()))
    good, total = report.score
    return 0 if total and good / total >= args.min_score else 1


async def _kb(args) -> int:
    from bot.app import open_versions
    async with open_versions(_settings(args)) as versions:
        return await args.kb(versions, args)


def cmd_serve(args) -> int:
    settings = _settings(args)
    _observability(settings)
    if args.workers < 0:
        raise SettingsError("--workers must be 1 or more (or 0 for one per core)")
    workers = args.workers or _default_workers()
    if workers > 1 and args.listen_fd is None:
        return _supervise(settings, args, workers)
    from bot import serving
    from bot.app import create_app
    app = create_app(settings)
    sock = None
    if args.listen_fd is not None:             # a worker of the supervisor: serve the socket it inherited
        import socket
        sock = socket.socket(fileno=args.listen_fd)
        serving.name_worker(app)
    else:
        print(f"citizen-bot: serving on http://{args.host}:{args.port}/ (chat API: POST /api/chat)", flush=True)
    serving.run(app, args.host, args.port, settings.header_timeout, settings.max_connections, sock)
    return 0


def _default_workers() -> int:
    from bot.supervisor import default_workers
    return default_workers()


def _supervise(settings: Settings, args, workers: int) -> int:
    from bot import supervisor
    try:
        sock = supervisor.listen(args.host, args.port)
    except OSError as exc:
        print(f"citizen-bot: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    host, port = sock.getsockname()[:2]
    print(f"citizen-bot: serving on http://{host}:{port}/ with {workers} workers (chat API: POST /api/chat)",
          flush=True)
    worker_args = (["--root", args.root] if args.root else []) + ["serve", "--host", args.host,
                                                                   "--port", str(port), "--workers", "1"]
    return supervisor.run(settings, sock, workers, worker_args)


def _observability(settings: Settings) -> None:
    """JSON logs; with METRICS_SHARED, prometheus-client's multi-process mode under the data directory
    (it must be chosen before prometheus_client is first imported)."""
    import os
    if settings.metrics_shared and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shared = settings.data_dir / "metrics"
        shared.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
    from bot.observability import logs
    logs.configure(settings.user_hash_secret)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="citizen-bot", description="Citizen-inquiry bot")
    ap.add_argument("--root", help="folder holding seeds/ and intents/ (default: the repository)")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="validate seeds/ and intents/").set_defaults(func=cmd_check)
    ask = sub.add_parser("ask", help="ask one question and print the reply")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the full result as JSON")
    ask.add_argument("--user", help="keep a session under this user id across calls")
    ask.set_defaults(func=lambda a: asyncio.run(_ask(a)))
    chat = sub.add_parser("chat", help="an interactive session in the terminal")
    chat.add_argument("--user")
    chat.set_defaults(func=lambda a: asyncio.run(_chat(a)))
    ev = sub.add_parser("eval", help="grade a question set (same semantics as eval/grade.py)")
    ev.add_argument("cases")
    ev.add_argument("--min-score", type=float, default=0.0, help="exit 1 below this share (0-1)")
    ev.set_defaults(func=lambda a: asyncio.run(_eval(a)))
    kb_cli.add_parser(sub)
    sub.choices["kb"].set_defaults(func=lambda a: asyncio.run(_kb(a)))
    faq_cli.add_parser(sub)
    sub.choices["faq"].set_defaults(func=lambda a: asyncio.run(_kb(a)))
    user_cli.add_parser(sub, _settings)
    bench_cli.add_parser(sub)
    serve = sub.add_parser("serve", help="serve the chat API, web chat and WeChat callback")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=0,
                       help="processes serving the port (default 0: one per core; 1: a single process)")
    serve.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)     # set by the supervisor for its workers
    serve.set_defaults(func=cmd_serve)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as exc:
        print(f"citizen-bot: configuration error: {exc}", file=sys.stderr)
        return 2
    except knowledge.KnowledgeError as exc:
        print(f"citizen-bot: the knowledge has problems (run `citizen-bot check`):\n{exc}", file=sys.stderr)
        return 2
