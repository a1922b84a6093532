"""Who may call what: every role on every route, CSRF and Origin, and a route outside the table."""
from __future__ import annotations

import pytest

from bot.admin.roles import ANYONE, PUBLIC, ROLES, TABLE
from bot.app import create_app

from .admin_helpers import *  # noqa: F403
from .admin_helpers import Console

EXAMPLE = {"name": "someone", "id": "bus-fare", "file": "000_ff720f5e860dd746.txt", "a": "1", "b": "1"}
GUARDED = sorted((m, p) for (m, p), roles in TABLE.items() if roles is not PUBLIC)
# Routes that end the session or change the account's own credentials: run last, or not as allowed calls.
SELF_ENDING = {("POST", "/api/admin/logout"), ("POST", "/api/admin/password")}


def concrete(path: str) -> str:
    for name, value in EXAMPLE.items():
        path = path.replace("{" + name + "}", value)
    return path.removeprefix("/api/admin/")


def test_the_table_and_the_registered_routes_are_the_same(admin_settings, redis):
    app = create_app(admin_settings, redis=redis)
    registered = {(r.method, r.resource.canonical) for r in app.router.routes()
                  if r.resource is not None and r.resource.canonical.startswith("/api/admin/")
                  and r.method != "HEAD"}
    assert registered == set(TABLE)


def test_admin_and_auditor_are_apart():
    for roles in TABLE.values():
        if roles is not ANYONE:
            assert not {"admin", "auditor"} <= roles
    assert not [r for (m, p), roles in TABLE.items() if "auditor" in roles and roles is not ANYONE
                and not p.startswith("/api/admin/audit")]


@pytest.mark.parametrize(("method", "path"), GUARDED)
async def test_every_guarded_route_wants_a_session(console, method, path):
    resp = await console().call(method, concrete(path), json={})
    assert resp.status == 401
    assert (await resp.json())["error"] == "请先登录"


@pytest.mark.parametrize("role", ROLES)
async def test_every_role_on_every_route(signed_in, role):
    """403 for a role the table does not list; anything but 401/403 for one it does."""
    c = await signed_in(role)
    for method, path in GUARDED:
        if (method, path) in SELF_ENDING:
            continue
        resp = await c.call(method, concrete(path), json={})
        allowed = role in TABLE[(method, path)]
        if allowed:
            assert resp.status not in (401, 403), (role, method, path, resp.status, await resp.text())
        else:
            assert resp.status == 403, (role, method, path, resp.status)
            assert "权限" in (await resp.json())["error"]
    await c.json("POST", "logout")


@pytest.mark.parametrize(("headers", "why"), [
    ({"X-CSRF-Token": ""}, "缺少"),
    ({"X-CSRF-Token": "wrong"}, "不正确"),
    ({"Origin": "https://evil.example"}, "其他网站"),
    ({"Origin": "null"}, "来源"),
])
async def test_state_changes_need_the_csrf_token_and_this_origin(signed_in, staff, headers, why):
    admin = await signed_in("admin")
    resp = await admin.call("PUT", "settings", {"require_totp_for": ["admin"]}, headers=headers)
    assert resp.status == 403 and why in (await resp.json())["error"]
    assert (await staff.users.security_settings())["require_totp_for"] == []


async def test_a_referer_stands_in_for_a_missing_origin(signed_in):
    admin = await signed_in("admin")
    ok = await admin.call("PUT", "settings", {"require_totp_for": []}, origin=False,
                          headers={"Referer": admin.origin + "/admin/"})
    assert ok.status == 200
    neither = await admin.call("PUT", "settings", {"require_totp_for": []}, origin=False)
    assert neither.status == 403
    foreign = await admin.call("PUT", "settings", {"require_totp_for": []}, origin=False,
                               headers={"Referer": "http://evil.example/admin/"})
    assert foreign.status == 403


async def test_login_from_another_site_is_refused(console, add_user):
    await add_user("alice", "viewer")
    c = console()
    resp = await c.call("POST", "login", {"username": "alice", "password": "Correct-horse1"},
                        headers={"Origin": "http://evil.example"})
    assert resp.status == 403 and c.cookie is None


async def test_a_token_of_another_session_is_refused(signed_in, add_user, console):
    admin = await signed_in("admin")
    await add_user("admin2", "admin")
    other = console()
    await other.login("admin2")
    admin.csrf = other.csrf
    assert (await admin.call("PUT", "settings", {"require_totp_for": []})).status == 403


async def test_reads_need_no_csrf_token(signed_in):
    admin = await signed_in("admin")
    admin.csrf = ""
    assert (await admin.call("GET", "users")).status == 200


async def test_a_route_missing_from_the_table_is_refused_to_everyone(aiohttp_client, admin_settings, redis,
                                                                      brains, add_user):
    from aiohttp import web
    app = create_app(admin_settings, redis=redis, brains=brains)

    async def ghost(request):
        return web.json_response({"secret": "leaked"})
    app.router.add_get("/api/admin/ghost", ghost)
    client = await aiohttp_client(app)
    assert (await client.get("/api/admin/ghost")).status == 401
    for role in ROLES:
        await add_user(f"{role}9", role)
        c = Console(client)
        await c.login(f"{role}9")
        resp = await c.call("GET", "ghost")
        assert resp.status == 403 and "leaked" not in await resp.text()


async def test_unknown_admin_paths_say_nothing_without_a_session(console, signed_in):
    assert (await console().call("GET", "nothing-here")).status == 401
    admin = await signed_in("admin")
    assert (await admin.call("GET", "nothing-here")).status == 404
