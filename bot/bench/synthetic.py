"""Knowledge N times the real size, for measuring how matching scales toward a province.

Copy k of a topic keeps about 70% of its characters and swaps the rest for characters drawn from
copy k's own alphabet, consistently within the copy. So copies share the common vocabulary of their
original (公交, 多少, 元 — the postings that grow with the knowledge), each copy has specific terms of its
own (as another city's briefing would: its roads, its departments), and no copy is a duplicate that
would tie with its original."""
from __future__ import annotations

import hashlib
from dataclasses import replace

from bot.knowledge.schema import Knowledge, Topic

KEEP = 0.7
_HAN_FIRST, _HAN_COUNT = 0x4E00, 0x9FA5 - 0x4E00


def _draw(char: str, copy: int) -> float:
    digest = hashlib.blake2b(f"{copy}:{char}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2 ** 64


def _mutate(text: str, copy: int, table: dict[str, str]) -> str:
    out = []
    for c in text:
        if not ("\u4e00" <= c <= "\u9fa5"):
            out.append(c)
            continue
        if c not in table:
            u = _draw(c, copy)
            table[c] = c if u < KEEP else chr(_HAN_FIRST + int((u - KEEP) / (1 - KEEP) * _HAN_COUNT))
        out.append(table[c])
    return "".join(out)


def _copy(topic: Topic, copy: int) -> Topic:
    table: dict[str, str] = {}

    def m(text: str) -> str:
        return _mutate(text, copy, table)
    answers = {city: replace(a, text=m(a.text), quotes=tuple(m(q) for q in a.quotes))
               for city, a in topic.answers.items()}
    return replace(topic, id=f"{topic.id}~{copy}", title=m(topic.title),
                   examples=tuple(m(e) for e in topic.examples), keywords=tuple(m(k) for k in topic.keywords),
                   answers=answers, related=())


def scaled(kn: Knowledge, times: int) -> Knowledge:
    """`kn` with its topics and `times - 1` mutated copies of each (times=1: `kn` itself)."""
    if times <= 1:
        return kn
    copies = [_copy(t, k) for k in range(1, times) for t in kn.topics]
    return Knowledge(kn.seeds, (*kn.topics, *copies), kn.headers)
