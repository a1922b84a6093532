"""Password hashing (Argon2id) and the password policy.

As in Django's `contrib/auth/hashers.py`, the stored hash names its algorithm and parameters
(`$argon2id$v=19$m=65536,t=3,p=4$salt$hash`), so a change of parameters is noticed at the next login
and the password rehashed then, while the plain text is at hand.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
CLASSES = (("小写字母", re.compile(r"[a-z]")), ("大写字母", re.compile(r"[A-Z]")),
           ("数字", re.compile(r"[0-9]")), ("符号", re.compile(r"[^A-Za-z0-9\s]")))
MAX_LENGTH = 256          # Argon2 takes any length; a bound keeps a login request cheap
# A hash takes ~0.5 s of CPU and 64 MiB: two at a time per process, the rest wait their turn.
CONCURRENT = 2


@dataclass(frozen=True)
class Verdict:
    ok: bool
    new_hash: str | None = None      # set when the stored hash used old parameters


class Hasher:
    def __init__(self, time_cost: int = 3, memory_kib: int = 64 * 1024, parallelism: int = 4):
        self._argon = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                                     type=Type.ID)
        # Verified against when the account does not exist, so that case takes as long as a wrong password.
        self._dummy = self._argon.hash("dummy password for timing")
        self._slots = asyncio.Semaphore(CONCURRENT)

    # The server's way in: Argon2 runs in a worker thread (the C code lets go of the GIL), so a login
    # does not stall the event loop, WeChat's deadline and every other request with it.
    async def hash_off_loop(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hash, password)

    async def verify_off_loop(self, stored: str | None, password: str) -> Verdict:
        async with self._slots:
            return await asyncio.to_thread(self.verify, stored, password)

    def hash(self, password: str) -> str:
        return self._argon.hash(password)

    def verify(self, stored: str | None, password: str) -> Verdict:
        try:
            self._argon.verify(stored or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return Verdict(False)
        if stored is None:
            return Verdict(False)
        return Verdict(True, self.hash(password) if self._argon.check_needs_rehash(stored) else None)


def policy_problems(password: str, username: str = "") -> list[str]:
    """What is wrong with a new password, in Chinese for the person choosing it; [] when it is fine."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        return [f"密码至少要{MIN_LENGTH}个字符"]
    if len(password) > MAX_LENGTH:
        return [f"密码不能超过{MAX_LENGTH}个字符"]
    problems = []
    missing = [name for name, pattern in CLASSES if not pattern.search(password)]
    if len(missing) > 1:
        problems.append("密码要包含大写字母、小写字母、数字、符号中的至少三类，现在缺少" + "、".join(missing))
    if username and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    return problems
