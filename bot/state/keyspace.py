"""Redis key names that stay valid on Redis Cluster: all of one citizen's keys in one hash slot.

Cluster hashes only the part of a key between its first "{" and the next "}" (a hash tag) when there is
one. A turn takes one user's lock, reads and writes their session, the rest of a long reply and the
conversation's history, and a script or transaction over several keys must find them in one slot, so
those keys carry the user's id as their tag: `citizen-bot:session:{wechat:oAbc}`. Ids are letters,
digits and `_-:.@` (the channels check them), so a tag is never empty and never cut short.
Every other key is read and written on its own (single-key commands), or is staff data: see
docs/serving.md for the staff keys' transactions, which still span slots.
"""
from __future__ import annotations

from redis.crc import key_slot

PER_USER = frozenset({"session", "lock", "more", "history"})


def key(prefix: str, kind: str, *rest: str) -> str:
    """`prefix:kind:rest...`, the first of `rest` in a hash tag when `kind` is one user's."""
    if kind in PER_USER and rest:
        rest = ("{" + rest[0] + "}", *rest[1:])
    return ":".join((prefix, kind, *rest))


def slot(name: str) -> int:
    """The Redis Cluster slot of a key (for tests and operators)."""
    return key_slot(name.encode("utf-8"))
