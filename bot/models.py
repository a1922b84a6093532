"""Values that cross the channel <-> dialogue boundary. A channel only translates these."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Inbound:
    channel: str          # "web", "wechat", "cli", "api"
    user_id: str
    text: str
    msg_id: str | None = None
    city_hint: str | None = None   # e.g. the nearest briefing city from a WeChat LOCATION event


@dataclass(frozen=True)
class Source:
    seed: str
    city: str
    quote: str
    label: str = ""       # the briefing as a reader would name it
    dept: str | None = None


@dataclass(frozen=True)
class Reply:
    text: str
    topic: str | None = None
    city: str | None = None
    confidence: float = 0.0
    sources: tuple[Source, ...] = ()
    suggestions: tuple[str, ...] = ()
    kind: str = "answer"  # answer | excerpt | clarify | refuse | fallback | smalltalk | ack

    def to_json(self) -> dict:
        """The /api/chat response body."""
        return {"reply": self.text, "topic": self.topic, "city": self.city,
                "confidence": round(self.confidence, 3), "kind": self.kind,
                "sources": [{"seed": s.seed, "city": s.city, "quote": s.quote, "label": s.label,
                             "dept": s.dept} for s in self.sources],
                "suggestions": list(self.suggestions)}
