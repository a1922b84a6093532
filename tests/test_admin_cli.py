"""`citizen-bot user`: the operator creates the first admin on the server; there is no default account."""
from __future__ import annotations

import subprocess
import sys

from bot.settings import ROOT

from .admin_helpers import *  # noqa: F403
from .admin_helpers import Console


def user(*args, redis_url: str, password: str | None = None):
    env = {"REDIS_URL": redis_url, "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "bot", "user", *args], input=password, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=60, check=False)


async def test_user_add_reads_the_password_from_stdin_and_it_is_valid_as_set(
        redis_server, admin_client, staff, redis):
    assert await staff.users.all() == []                           # no default account
    made = user("add", "root", "--role", "admin", redis_url=redis_server.url, password="First-admin1\n")
    assert made.returncode == 0, made.stderr
    data = await Console(admin_client).login("root", "First-admin1")
    assert data["role"] == "admin" and data["must_change_password"] is False
    listed = user("list", redis_url=redis_server.url)
    assert listed.stdout.split("\t")[:3] == ["root", "admin", "正常"]
    [entry] = await staff.audit.entries(action="user.create")
    assert entry["actor"].startswith("cli:") and entry["object"] == "root"


async def test_user_add_refuses_a_weak_password_a_bad_role_and_a_duplicate(redis_server, staff, redis):
    weak = user("add", "root", "--role", "admin", redis_url=redis_server.url, password="password\n")
    assert weak.returncode == 1 and "三类" in weak.stderr
    both = user("add", "root", "--role", "admin,auditor", redis_url=redis_server.url, password="First-admin1\n")
    assert both.returncode == 1 and "角色" in both.stderr
    assert user("add", "root", "--role", "admin", redis_url=redis_server.url, password="First-admin1\n").returncode == 0
    again = user("add", "root", "--role", "viewer", redis_url=redis_server.url, password="First-admin1\n")
    assert again.returncode == 1 and "已存在" in again.stderr


async def test_user_disable_and_passwd(redis_server, admin_client, staff, redis):
    await staff.users.create("bob", "editor", "Old-pass-11", must_change=True)
    changed = user("passwd", "bob", redis_url=redis_server.url, password="New-pass-22\n")
    assert changed.returncode == 0, changed.stderr
    assert (await Console(admin_client).login("bob", "New-pass-22"))["must_change_password"] is False
    assert user("disable", "bob", redis_url=redis_server.url).returncode == 0
    await Console(admin_client).login("bob", "New-pass-22", status=403)
    assert user("disable", "nobody", redis_url=redis_server.url).returncode == 1
