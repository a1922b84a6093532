"""`citizen-bot user add NAME --role ROLE | list | disable NAME | passwd NAME`: staff accounts from a shell.

The operator on the server is trusted: a password set here is valid as it is (no forced change), and there
is no default account: the first admin is created this way.
"""
from __future__ import annotations

import asyncio
import sys


def _read_password(args) -> str:
    """From stdin when it is not a terminal (scripts, `echo ... |`); else asked twice, unechoed."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass
    first = getpass.getpass("密码：")
    if getpass.getpass("再输入一次：") != first:
        raise UserCommandError("两次输入的密码不一致")
    return first


class UserCommandError(Exception):
    """A `citizen-bot user` command that cannot be done; the message says why."""


async def _user(args) -> int:
    """Accounts on the configured Redis. The operator is trusted: a password set here is valid as it is."""
    import getpass

    from bot.admin.audit import Who
    from bot.admin.context import staff_for
    from bot.admin.problems import Invalid
    from bot.app import redis_for
    settings = args.settings_of(args)
    async with redis_for(settings) as redis:
        staff = staff_for(settings, redis)
        who = Who(f"cli:{getpass.getuser()}", "operator", "localhost")
        try:
            return await _user_action(args, staff, who)
        except Invalid as exc:
            details = "；".join(p.message for p in exc.problems)
            raise UserCommandError(exc.message + (f"：{details}" if details else "")) from None


async def _user_action(args, staff, who) -> int:
    users, audit = staff.users, staff.audit
    if args.action == "list":
        for u in await users.all():
            state = "已停用" if u.disabled else "正常"
            print(f"{u.username}\t{u.role}\t{state}\t{'TOTP' if u.totp_enabled else '-'}")
        return 0
    if args.action == "add":
        user = await users.create(args.name, args.role, _read_password(args), must_change=False)
        await audit.record(who, "user.create", user.username, after={"role": user.role})
        print(f"已创建 {user.username}（{user.role}）")
        return 0
    if await users.get(args.name) is None:
        raise UserCommandError(f"没有用户“{args.name}”")
    if args.action == "disable":
        await users.set_disabled(args.name, True)
        await audit.record(who, "user.update", args.name, after={"disabled": True})
        print(f"已停用 {args.name}，其登录会话已全部失效")
    else:                                                   # passwd
        await users.set_password(args.name, _read_password(args), must_change=False)
        await audit.record(who, "user.reset", args.name, after={"must_change_password": False})
        print(f"已为 {args.name} 设置新密码，其登录会话已全部失效")
    return 0


def run(args) -> int:
    if args.action != "list" and not args.name:
        print(f"citizen-bot user {args.action}: 需要用户名", file=sys.stderr)
        return 2
    if args.action == "add" and not args.role:
        print("citizen-bot user add: 需要 --role（viewer、editor、publisher、admin 或 auditor）", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_user(args))
    except UserCommandError as exc:
        print(f"citizen-bot user {args.action}: {exc}", file=sys.stderr)
        return 1


def add_parser(sub, settings_of) -> None:
    user = sub.add_parser("user", help="staff accounts: add NAME --role ROLE | list | disable NAME | passwd NAME")
    user.add_argument("action", choices=("add", "list", "disable", "passwd"))
    user.add_argument("name", nargs="?")
    user.add_argument("--role", help="viewer, editor, publisher, admin or auditor (for add)")
    user.set_defaults(func=run, settings_of=settings_of)
