"""The process's memory and glibc's allocator: the two settings the bot makes, in one place. Not on
glibc (another libc, another system), both are no-ops."""
from __future__ import annotations

import contextlib
import ctypes

M_ARENA_MAX = -8            # glibc's mallopt parameter


def _glibc():
    return ctypes.CDLL("libc.so.6")


def one_malloc_arena() -> None:
    """glibc gives each thread that allocates an arena of its own (the lanes' threads, asyncio.to_thread),
    and an arena keeps what it once held: about 5 MB of RSS here (docs/performance.md). Python threads
    allocate under the GIL, one at a time (C code without it rarely), so sharing one costs them next to
    no waiting."""
    with contextlib.suppress(OSError, AttributeError):
        _glibc().mallopt(M_ARENA_MAX, 1)


def give_back() -> None:
    """Return freed heap to the OS (glibc keeps it otherwise: after a Brain build at 100 times the
    knowledge, a quarter of the process's memory)."""
    with contextlib.suppress(OSError, AttributeError):
        _glibc().malloc_trim(0)
