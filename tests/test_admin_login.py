"""Signing in: sessions, timeouts, lockout and throttling, passwords, forced change, second factor."""
from __future__ import annotations

import asyncio
import time

from dataclasses import replace

import pyotp

from bot.app import create_app
from bot.state.limits import Limit

from bot.admin.passwords import Hasher, policy_problems
from bot.admin.sessions import COOKIE

from .admin_helpers import *  # noqa: F403
from .admin_helpers import CHEAP, PASSWORD, Console


async def test_login_answers_the_csrf_token_and_role_and_sets_a_strict_httponly_cookie(console, add_user):
    await add_user("alice", "editor")
    c = console()
    resp = await c.call("POST", "login", {"username": "alice", "password": PASSWORD})
    data = await resp.json()
    assert resp.status == 200
    assert data["role"] == "editor" and data["csrf_token"] and data["must_change_password"] is False
    cookie = resp.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
    assert cookie["path"] == "/api/admin"
    me = await c.json("GET", "me")
    assert me["username"] == "alice" and me["csrf_token"] == data["csrf_token"]


async def test_wrong_password_and_unknown_user_get_the_same_answer(console, add_user):
    await add_user("alice", "editor")
    wrong = await console().login("alice", "Wrong-pass1", status=401)
    nobody = await console().login("bob", "Wrong-pass1", status=401)
    assert wrong == nobody
    assert wrong["errors"] == [{"field": "password", "message": "用户名或密码错误"}]


async def test_each_login_gets_a_fresh_session_id_and_logout_kills_it(console, add_user):
    await add_user("alice", "viewer")
    c = console()
    await c.login("alice")
    first = c.cookie
    await c.login("alice")
    assert c.cookie != first
    old = console()
    old.cookie = first
    assert (await old.call("GET", "me")).status == 200      # two sessions may be open at once
    session = c.cookie
    await c.json("POST", "logout")
    c.cookie = session
    assert (await c.call("GET", "me")).status == 401


async def test_secure_cookie_behind_https(client_with, add_user):
    client = await client_with(secure_cookies=True)
    await add_user("alice", "viewer")
    c = Console(client)
    resp = await c.call("POST", "login", {"username": "alice", "password": PASSWORD},
                        headers={"Origin": f"https://{client.host}:{client.port}"})
    assert resp.status == 200 and resp.cookies[COOKIE]["secure"]
    http = await c.call("POST", "login", {"username": "alice", "password": PASSWORD})   # http:// Origin
    assert http.status == 403


async def test_five_failures_lock_the_account_and_end_its_sessions_until_the_lockout_passes(client_with, add_user):
    client = await client_with(lockout_seconds=1.5)
    await add_user("alice", "editor")
    open_session = Console(client)
    await open_session.login("alice")
    c = Console(client)
    for _ in range(5):
        await c.login("alice", "Wrong-pass1", status=401)
    resp = await c.call("POST", "login", {"username": "alice", "password": PASSWORD})   # even the right one
    locked = await resp.json()
    assert resp.status == 429 and locked["locked"] is True and "锁定" in locked["error"]
    assert resp.headers["Retry-After"] == "2" and locked["retry_after"] == 2      # 1.5 s, rounded up
    assert (await open_session.call("GET", "me")).status == 401
    await asyncio.sleep(1.6)
    await c.login("alice", PASSWORD)


async def test_login_attempts_are_rate_limited_per_address_and_per_account_with_429_and_retry_after(
        aiohttp_client, admin_settings, redis, brains, add_user, staff):
    limits = {"login": Limit(6, 60), "login-user": Limit(3, 60)}
    settings = replace(admin_settings, rate_limits=limits)
    client = await aiohttp_client(create_app(settings, redis=redis, brains=brains))
    await add_user("alice", "editor")
    await add_user("bob", "editor")
    c = Console(client)
    for _ in range(3):                       # successful logins count too: the limit is on attempts
        await c.login("alice")
    resp = await c.call("POST", "login", {"username": "alice", "password": PASSWORD})
    body = await resp.json()
    assert resp.status == 429 and "频繁" in body["error"]
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert body["retry_after"] == int(resp.headers["Retry-After"])
    await c.login("bob")                     # another account from the same address: 5 of 6
    await c.login("bob", "Wrong-pass1", status=401)
    resp = await c.call("POST", "login", {"username": "carol", "password": PASSWORD})
    assert resp.status == 429 and "Retry-After" in resp.headers              # the address's 7th attempt
    # a second process on the same Redis sees the same counts
    other = Console(await aiohttp_client(create_app(settings, redis=redis, brains=brains)))
    assert (await other.call("POST", "login", {"username": "bob", "password": PASSWORD})).status == 429
    # refusals of the rate limit are not audited (a flood cannot grow the audit log)
    assert len(await staff.audit.entries(action="login")) == 5


async def test_the_login_rate_limit_allows_attempts_while_redis_is_away(redis):
    from bot.admin.throttle import Throttle
    from bot.state.ratelimit import RateLimiter
    from bot.state.resilient import ResilientStore
    store = ResilientStore(redis)
    throttle = Throttle(redis, "citizen-bot", CHEAP, RateLimiter(store, {"login": Limit(1, 60)}))
    assert await throttle.refusal("alice", "1.2.3.4") is None
    assert (await throttle.refusal("alice", "1.2.3.4")).retry_after >= 1          # the limit holds ...
    store.breaker.trip()                                                            # ... until Redis is away
    assert [await throttle.refusal("alice", "1.2.3.4") for _ in range(5)] == [None] * 5


async def test_four_failures_then_success_start_the_count_again(console, add_user):
    await add_user("alice", "editor")
    c = console()
    for _ in range(4):
        await c.login("alice", "Wrong-pass1", status=401)
    await c.login("alice")
    for _ in range(4):
        await c.login("alice", "Wrong-pass1", status=401)
    await c.login("alice")


async def test_an_address_that_keeps_failing_is_refused_across_accounts(client_with, add_user):
    client = await client_with(address_failures=6, address_window=1.5)
    await add_user("alice", "editor")
    c = Console(client)
    for i in range(6):                                         # spread over names: no account locks
        await c.login(f"guess{i}", "Wrong-pass1", status=401)
    resp = await c.call("POST", "login", {"username": "alice", "password": PASSWORD})
    refused = await resp.json()
    assert resp.status == 429 and "地址" in refused["error"] and resp.headers["Retry-After"] == "2"
    await asyncio.sleep(1.6)
    await c.login("alice")


async def test_behind_our_proxy_the_address_is_the_one_it_appended(client_with, add_user, staff):
    client = await client_with(address_failures=2, trust_proxy=True)
    await add_user("alice", "editor")
    c = Console(client)
    for _ in range(2):
        await c.login("x", "Wrong-pass1", status=401, headers={"X-Forwarded-For": "6.6.6.6, 10.0.0.7"})
    # the client forged the first entry; the proxy's own entry (the last) is the one that counts
    await c.login("alice", PASSWORD, status=429, headers={"X-Forwarded-For": "1.2.3.4, 10.0.0.7"})
    await c.login("alice", PASSWORD, headers={"X-Forwarded-For": "10.0.0.8"})
    failed = await staff.audit.entries(action="login")
    assert {e["address"] for e in failed} == {"10.0.0.7", "10.0.0.8"}


async def test_idle_sessions_end(client_with, add_user):
    client = await client_with(idle_timeout=1.0)
    await add_user("alice", "viewer")
    c = Console(client)
    await c.login("alice")
    for _ in range(3):                      # use keeps it alive past the idle timeout
        await asyncio.sleep(0.5)
        assert (await c.call("GET", "me")).status == 200
    await asyncio.sleep(1.1)
    assert (await c.call("GET", "me")).status == 401


async def test_sessions_end_at_the_absolute_timeout_however_busy(client_with, add_user):
    client = await client_with(idle_timeout=10, absolute_timeout=1.5)
    await add_user("alice", "viewer")
    c = Console(client)
    await c.login("alice")
    ok = 0
    for _ in range(8):
        await asyncio.sleep(0.25)
        ok += (await c.call("GET", "me")).status == 200
    assert 3 <= ok < 8
    assert (await c.call("GET", "me")).status == 401


async def test_session_keys_expire_but_accounts_do_not(console, add_user, redis):
    await add_user("alice", "viewer")
    await console().login("alice")
    ttls = {k.decode(): await redis.pttl(k) for k in await redis.keys("citizen-bot:admin*")}
    assert all(t == -1 for k, t in ttls.items() if k.startswith("citizen-bot:admin:"))
    assert all(t > 0 for k, t in ttls.items() if k.startswith("citizen-bot:admin-volatile:"))
    assert any(k.startswith("citizen-bot:admin-volatile:session:") for k in ttls)


def test_password_policy_wants_eight_characters_and_three_classes():
    assert policy_problems("Ab1!") == ["密码至少要8个字符"]
    assert "缺少" in policy_problems("abcdefgh1")[0]
    assert policy_problems("abcdefg1A") == []
    assert policy_problems("abcdefg1!") == []
    assert policy_problems("ALICE-long-1", "alice") == ["密码不能包含用户名"]


def test_the_stored_hash_names_argon2id_and_is_rehashed_when_parameters_change():
    old = Hasher(time_cost=1, memory_kib=1024, parallelism=1)
    stored = old.hash(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert old.verify(stored, PASSWORD).new_hash is None
    verdict = Hasher(time_cost=2, memory_kib=2048, parallelism=1).verify(stored, PASSWORD)
    assert verdict.ok and verdict.new_hash.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
    assert not old.verify(stored, "wrong").ok


async def test_login_rehashes_a_password_stored_under_old_parameters(client_with, add_user, staff):
    await add_user("alice", "viewer")                          # hashed with t=1
    client = await client_with(hash_time_cost=2)
    await Console(client).login("alice")
    assert (await staff.users.get("alice")).password_hash.startswith("$argon2id$v=19$m=1024,t=2,p=1$")
    await Console(client).login("alice")                       # and the new hash works


async def test_an_account_made_by_an_admin_must_change_its_password_first(signed_in, console):
    admin = await signed_in("admin")
    await admin.json("POST", "users", {"username": "bob", "role": "editor", "password": "Temp-pass1"}, 201)
    bob = console()
    data = await bob.login("bob", "Temp-pass1")
    assert data["must_change_password"] is True
    refused = await bob.json("POST", "totp/enroll", {}, status=403)
    assert refused["must_change_password"] is True
    weak = await bob.json("POST", "password", {"old": "Temp-pass1", "new": "short"}, 422)
    assert weak["errors"][0]["field"] == "new"
    wrong = await bob.json("POST", "password", {"old": "nope", "new": "New-pass-22"}, 422)
    assert wrong["errors"] == [{"field": "old", "message": "当前密码不正确"}]
    done = await bob.json("POST", "password", {"old": "Temp-pass1", "new": "New-pass-22"})
    assert done["must_change_password"] is False
    bob.csrf = done["csrf_token"]
    assert (await bob.json("GET", "me"))["must_change_password"] is False
    await console().login("bob", "New-pass-22")


async def test_a_password_change_ends_the_other_sessions_but_keeps_this_one(signed_in, console):
    c = await signed_in("editor", "alice")
    other = console()
    await other.login("alice")
    before = c.cookie
    done = await c.json("POST", "password", {"old": PASSWORD, "new": "Another-pass2"})
    assert c.cookie != before
    c.csrf = done["csrf_token"]
    assert (await c.call("GET", "me")).status == 200
    assert (await other.call("GET", "me")).status == 401


async def test_a_reset_password_must_be_changed(signed_in, console, add_user):
    admin = await signed_in("admin")
    await add_user("bob", "viewer")
    await admin.json("POST", "users/bob/reset", {"password": "Temp-pass9"})
    assert (await console().login("bob", "Temp-pass9"))["must_change_password"] is True
    weak = await admin.json("POST", "users/bob/reset", {"password": "weak"}, 422)
    assert weak["errors"][0]["field"] == "password"


async def test_totp_enrolment_then_login_needs_the_code(signed_in, console):
    c = await signed_in("publisher", "pub")
    enrol = await c.json("POST", "totp/enroll", {})
    assert enrol["uri"].startswith("otpauth://totp/") and "secret=" + enrol["secret"] in enrol["uri"]
    bad = await c.json("POST", "totp/confirm", {"code": "000000"}, 422)
    assert bad["errors"][0]["field"] == "code"
    totp = pyotp.TOTP(enrol["secret"])
    await c.json("POST", "totp/confirm", {"code": totp.now()})
    assert (await c.json("GET", "me"))["totp_enabled"] is True
    fresh = console()
    asked = await fresh.login("pub", status=401)
    assert asked["totp_required"] is True and asked["errors"][0]["field"] == "totp"
    wrong = await fresh.login("pub", totp=str((int(totp.now()) + 1) % 1000000).zfill(6), status=401)
    assert wrong["errors"][0]["field"] == "totp"
    code = totp.at(time.time() + 30)           # the next step: the current one was used
    await fresh.login("pub", totp=code)
    replay = console()
    await replay.login("pub", totp=code, status=401)           # the same code again is refused


async def test_a_role_that_requires_totp_may_only_enrol_until_it_has(signed_in, console, add_user):
    admin = await signed_in("admin")
    await admin.json("PUT", "settings", {"require_totp_for": ["publisher"]})
    await add_user("pub", "publisher")
    p = console()
    data = await p.login("pub")
    assert data["totp_setup_required"] is True
    refused = await p.json("POST", "totp/disable", {"code": "123456"}, status=403)
    assert refused["totp_setup_required"] is True
    enrol = await p.json("POST", "totp/enroll", {})
    await p.json("POST", "totp/confirm", {"code": pyotp.TOTP(enrol["secret"]).now()})
    assert (await p.json("GET", "me"))["totp_setup_required"] is False
    still_required = await p.json("POST", "totp/disable", {"code": "123456"}, 403)
    assert "不能关闭" in still_required["error"]
    bad = await admin.json("PUT", "settings", {"require_totp_for": ["auditor"]}, 422)
    assert bad["errors"][0]["field"] == "require_totp_for"


async def test_disabled_accounts_cannot_sign_in_and_lose_their_sessions(signed_in, console):
    admin = await signed_in("admin")
    bob = await signed_in("editor", "bob")
    await admin.json("PUT", "users/bob", {"disabled": True})
    assert (await bob.call("GET", "me")).status == 401
    assert "停用" in (await console().login("bob", status=403))["error"]
    await admin.json("PUT", "users/bob", {"disabled": False})
    await console().login("bob")


async def test_a_role_change_ends_the_accounts_sessions(signed_in, console):
    admin = await signed_in("admin")
    bob = await signed_in("editor", "bob")
    await admin.json("PUT", "users/bob", {"role": "viewer"})
    assert (await bob.call("GET", "me")).status == 401
    assert (await console().login("bob"))["role"] == "viewer"


async def test_one_role_per_account_so_never_admin_and_auditor(signed_in):
    admin = await signed_in("admin")
    for role in (["admin", "auditor"], "admin,auditor", "root", None):
        bad = await admin.json("POST", "users", {"username": "x1", "role": role, "password": "Temp-pass1"}, 422)
        assert bad["errors"][0]["field"] == "role"
    await admin.json("POST", "users", {"username": "x1", "role": "auditor", "password": "Temp-pass1"}, 201)
    await admin.json("PUT", "users/x1", {"role": ["admin", "auditor"]}, 422)
    dup = await admin.json("POST", "users", {"username": "x1", "role": "viewer", "password": "Temp-pass1"}, 409)
    assert dup["errors"][0]["field"] == "username"


async def test_admins_cannot_demote_or_disable_themselves(signed_in):
    admin = await signed_in("admin", "root")
    await admin.json("PUT", "users/root", {"disabled": True}, 403)
    await admin.json("PUT", "users/root", {"role": "viewer"}, 403)
    users = await admin.json("GET", "users")
    assert users["users"][0] == {**users["users"][0], "username": "root", "role": "admin", "disabled": False}
    assert "password_hash" not in users["users"][0] and "totp_secret" not in str(users)


async def test_argon2_runs_off_the_event_loop_so_a_login_does_not_stall_citizens(
        console, add_user, admin_client, monkeypatch):
    """A production hash takes ~0.5 s of CPU: on the loop it held up every WeChat reply that long (soak)."""
    import threading

    from bot.admin.context import STAFF
    await add_user("alice", "viewer")
    hasher = admin_client.app[STAFF].users.hasher
    threads = []
    verify = hasher.verify
    monkeypatch.setattr(hasher, "verify", lambda *a: threads.append(threading.get_ident()) or verify(*a))
    await console().login("alice")
    await console().login("alice", "Wrong-pass1", status=401)
    assert len(threads) == 2 and threading.get_ident() not in threads
