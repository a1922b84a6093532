"""Fixtures and a small client for the staff API tests: the real app on the real Redis.

Import the fixtures into a test module with `from .admin_helpers import *`.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.admin.context import staff_for
from bot.app import create_app
from bot.settings import AdminSettings
from bot.state.limits import Limit

PASSWORD = "Correct-horse1"
# Cheap Argon2id parameters: the tests log in hundreds of times on two shared cores.
CHEAP = AdminSettings(hash_time_cost=1, hash_memory_kib=1024, hash_parallelism=1)
# ... and from one address, far past the per-address and per-account login limits (tested on their own).
ROOMY_LOGINS = {"login": Limit(100_000, 60), "login-user": Limit(100_000, 60)}


class Console:
    """One browser: its own session cookie and CSRF token, same-origin headers unless told otherwise."""

    def __init__(self, client):
        self.client, self.cookie, self.csrf = client, None, ""

    @property
    def origin(self) -> str:
        return f"http://{self.client.host}:{self.client.port}"

    async def call(self, method: str, path: str, json=None, headers=None, csrf=True, origin=True):
        h = {}
        if self.cookie:
            h["Cookie"] = f"citizen_admin={self.cookie}"
        if method not in ("GET", "HEAD"):
            if origin:
                h["Origin"] = self.origin
            if csrf:
                h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        self.client.session.cookie_jar.clear()
        resp = await self.client.request(method, "/api/admin/" + path, json=json, headers=h)
        if "citizen_admin" in resp.cookies:
            self.cookie = resp.cookies["citizen_admin"].value or None
        self.client.session.cookie_jar.clear()
        return resp

    async def json(self, method: str, path: str, json=None, status: int = 200, **kw) -> dict:
        resp = await self.call(method, path, json, **kw)
        data = await resp.json() if resp.content_type == "application/json" else await resp.text()
        assert resp.status == status, (resp.status, data)
        return data

    async def login(self, username: str, password: str = PASSWORD, status: int = 200, headers=None,
                    **extra) -> dict:
        data = await self.json("POST", "login", {"username": username, "password": password, **extra}, status,
                               headers=headers)
        if status == 200:
            self.csrf = data["csrf_token"]
        return data


@pytest.fixture
def admin_settings(settings):
    return replace(settings, admin=CHEAP, rate_limits=ROOMY_LOGINS)


@pytest.fixture
def staff(admin_settings, redis):
    return staff_for(admin_settings, redis)


@pytest.fixture
async def admin_client(aiohttp_client, admin_settings, redis, brains):
    return await aiohttp_client(create_app(admin_settings, redis=redis, brains=brains))


@pytest.fixture
def client_with(aiohttp_client, admin_settings, redis, brains):
    """client_with(**admin settings) -> a test client on an app with those staff-console settings."""
    async def make(**admin):
        settings = replace(admin_settings, admin=replace(CHEAP, **admin))
        return await aiohttp_client(create_app(settings, redis=redis, brains=brains))
    return make


@pytest.fixture
def console(admin_client):
    """console() -> a new browser on the app."""
    return lambda: Console(admin_client)


@pytest.fixture
def add_user(staff):
    async def add(name: str, role: str, password: str = PASSWORD, must_change: bool = False):
        return await staff.users.create(name, role, password, must_change=must_change)
    return add


@pytest.fixture
def signed_in(console, add_user):
    """signed_in(role) -> a Console signed in as a fresh account with that role."""
    async def make(role: str, name: str | None = None) -> Console:
        name = name or f"{role}1"
        await add_user(name, role)
        c = console()
        await c.login(name)
        return c
    return make


async def audit_of(staff, action: str) -> list[dict]:
    return await staff.audit.entries(action=action)


__all__ = ["Console", "PASSWORD", "CHEAP", "ROOMY_LOGINS",
           "admin_settings", "staff", "admin_client", "client_with", "console", "add_user",
           "signed_in", "audit_of"]
