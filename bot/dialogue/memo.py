"""Replies to repeated questions: a turn is a pure function of the Brain, the message, the session and
the city hint, and citizens ask the same things in the same words all day ("平泉公交多少钱" from a new
user has one answer until staff publish). Remembering the last few thousand turns of the live Brain
spares the understanding and matching (most of a turn's CPU) for those.

Bounded (least recently used go first), cleared whenever the Brain changes, safe across the lanes'
threads. Size 0 turns it off (TURN_MEMO=0)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from bot.observability import metrics

T = TypeVar("T")
SIZE = 4096


class TurnMemo:
    def __init__(self, size: int = SIZE):
        self.size = size
        self._brain: object | None = None
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, brain: object, key: Hashable) -> object | None:
        """The remembered value, or None (the caller then works it out with `get_or_run`)."""
        if not self.size:
            return None
        with self._lock:
            if brain is not self._brain:      # a publish: every remembered reply may be out of date
                self._items.clear()
                self._brain = brain
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                metrics.TURN_MEMO.labels("hit").inc()
            return found

    def get_or_run(self, brain: object, key: Hashable, run: Callable[[], T]) -> T:
        found = self.get(brain, key)
        if found is not None:
            return found
        value = run()
        self.put(brain, key, value)
        return value

    def put(self, brain: object, key: Hashable, value: object) -> None:
        """Remember what a turn worked out (unless the Brain changed meanwhile)."""
        if not self.size:
            return
        metrics.TURN_MEMO.labels("miss").inc()
        with self._lock:
            if brain is self._brain:
                self._items[key] = value
                if len(self._items) > self.size:
                    self._items.popitem(last=False)
