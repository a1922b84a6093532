"""Staff accounts and the console's security settings, in Redis.

Keys, all under `{prefix}:admin:` and never given a TTL (staff data is never expired or evicted):
  admin:users          set of user names
  admin:user:{name}    hash: role, hash, disabled, must_change, totp, totp_pending, totp_last, epoch,
                       created_at, last_login
  admin:settings       hash: require_totp_for (JSON list of roles)
`epoch` grows whenever an account's access changes (role, disabled, password, lockout); a session
carries the epoch it was opened under and dies when they differ, so every session of the account is
revoked at once.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.admin.passwords import Hasher, policy_problems
from bot.admin.problems import Invalid, Problem
from bot.admin.roles import ROLES

USERNAME = re.compile(r"^[\w.@-]{2,64}$")
TOTP_ROLES = ("publisher", "admin")       # the roles the admin may require a second factor for


@dataclass(frozen=True)
class User:
    username: str
    role: str
    password_hash: str
    disabled: bool = False
    must_change_password: bool = False
    totp_secret: str = ""
    totp_pending: str = ""
    totp_last: int = 0                    # the last time step used, so a code cannot be replayed
    epoch: int = 0
    created_at: float = 0.0
    last_login: float | None = None

    @property
    def totp_enabled(self) -> bool:
        return bool(self.totp_secret)

    def to_json(self) -> dict:
        """What the console may see of an account: never the hash or the second-factor secret."""
        return {"username": self.username, "role": self.role, "disabled": self.disabled,
                "must_change_password": self.must_change_password, "totp_enabled": self.totp_enabled,
                "created_at": self.created_at, "last_login": self.last_login}


def check_role(role) -> str:
    """One role per account, from the fixed list: so an account can never be both admin and auditor."""
    if not isinstance(role, str) or role not in ROLES:
        raise Invalid.on("role", "角色必须是以下之一（每个账号只能有一个角色）：" + "、".join(ROLES))
    return role


def check_new_password(password, username: str = "") -> str:
    problems = policy_problems(password, username) if isinstance(password, str) else ["密码必须是字符串"]
    if problems:
        raise Invalid("密码不符合要求", [Problem("password", p) for p in problems])
    return password


class Users:
    def __init__(self, redis: Redis, prefix: str, hasher: Hasher):
        self.redis, self.hasher = redis, hasher
        self._prefix = f"{prefix}:admin"

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    async def get(self, username: str) -> User | None:
        if not isinstance(username, str) or not USERNAME.match(username):
            return None
        raw = await self.redis.hgetall(self._key("user", username))
        return _user(username, raw) if raw else None

    async def all(self) -> list[User]:
        names = sorted(n.decode() for n in await self.redis.smembers(self._key("users")))
        found = [await self.get(n) for n in names]
        return [u for u in found if u]

    async def create(self, username, role, password, *, must_change: bool) -> User:
        if not isinstance(username, str) or not USERNAME.match(username):
            raise Invalid.on("username", "用户名为2-64位的字母、数字、汉字或 . _ - @")
        check_role(role)
        check_new_password(password, username)
        hashed = await self.hasher.hash_off_loop(password)        # before the name is taken: no half account
        if not await self.redis.sadd(self._key("users"), username):
            raise Invalid.on("username", f"用户名“{username}”已存在", status=409)
        await self.redis.hset(self._key("user", username), mapping={
            "role": role, "hash": hashed, "disabled": 0, "must_change": int(must_change),
            "epoch": 0, "created_at": repr(time.time())})
        return await self.get(username)

    async def set_role(self, username: str, role: str) -> None:
        await self._change(username, role=check_role(role))

    async def set_disabled(self, username: str, disabled: bool) -> None:
        await self._change(username, disabled=int(bool(disabled)))

    async def set_password(self, username: str, password: str, *, must_change: bool) -> None:
        check_new_password(password, username)
        hashed = await self.hasher.hash_off_loop(password)
        await self._change(username, hash=hashed, must_change=int(must_change))

    async def revoke_sessions(self, username: str) -> None:
        await self._change(username)

    async def _change(self, username: str, **fields) -> None:
        """Change an account's access and revoke its sessions, in one transaction."""
        key = self._key("user", username)
        if not await self.redis.exists(key):          # accounts are never deleted: no race with this
            raise Invalid.on("username", f"没有用户“{username}”", status=404)
        async with self.redis.pipeline(transaction=True) as pipe:
            if fields:
                pipe.hset(key, mapping=fields)
            pipe.hincrby(key, "epoch", 1)
            await pipe.execute()

    async def store_rehash(self, username: str, new_hash: str) -> None:
        """The same password under new parameters: sessions stay."""
        await self.redis.hset(self._key("user", username), "hash", new_hash)

    async def record_login(self, username: str) -> None:
        await self.redis.hset(self._key("user", username), "last_login", repr(time.time()))

    async def set_totp(self, username: str, **fields) -> None:
        """totp, totp_pending, totp_last; enabling or disabling the second factor is not a revocation."""
        await self.redis.hset(self._key("user", username), mapping=fields)

    async def use_totp_step(self, username: str, step: int) -> bool:
        """Record that time step `step` was used; False if it (or a later one) already was."""
        script = ("local last = tonumber(redis.call('HGET', KEYS[1], 'totp_last') or '0') "
                  "if tonumber(ARGV[1]) <= last then return 0 end "
                  "redis.call('HSET', KEYS[1], 'totp_last', ARGV[1]) return 1")
        return bool(await self.redis.eval(script, 1, self._key("user", username), step))

    # ---------------------------------------------------------------------------- security settings

    async def security_settings(self) -> dict:
        raw = await self.redis.hget(self._key("settings"), "require_totp_for")
        return {"require_totp_for": json.loads(raw) if raw else []}

    async def put_security_settings(self, payload) -> dict:
        roles = payload.get("require_totp_for") if isinstance(payload, dict) else None
        if not isinstance(roles, list) or any(r not in TOTP_ROLES for r in roles):
            raise Invalid.on("require_totp_for", "只能要求发布员（publisher）和系统管理员（admin）开启双因素认证")
        chosen = [r for r in TOTP_ROLES if r in roles]
        await self.redis.hset(self._key("settings"), "require_totp_for", json.dumps(chosen))
        return {"require_totp_for": chosen}


def _user(username: str, raw: dict) -> User:
    m = {k.decode(): v.decode() for k, v in raw.items()}
    return User(username, m.get("role", ""), m.get("hash", ""), m.get("disabled") == "1",
                m.get("must_change") == "1", m.get("totp", ""), m.get("totp_pending", ""),
                int(m.get("totp_last") or 0), int(m.get("epoch") or 0), float(m.get("created_at") or 0),
                float(m["last_login"]) if m.get("last_login") else None)
