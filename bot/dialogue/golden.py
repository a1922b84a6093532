"""Golden questions: questions staff pinned to the topic and city they must get, run on two Brains."""
from __future__ import annotations

from bot.dialogue.turn import Dialogue
from bot.state.store import Session
from bot.understanding.brain import Brain


def ask(brain: Brain, question: str) -> dict:
    """The reply a citizen asking this first thing would get: the real turn logic, a fresh session."""
    reply, _ = Dialogue(brain, None).turn(question, Session())
    return {"reply": reply.text, "topic": reply.topic, "city": reply.city, "kind": reply.kind}


def report(pins: list[dict], live: Brain, draft: Brain) -> list[dict]:
    """Per pin: both replies, whether the answer changes, and whether it fails (wrong topic or city)."""
    out = []
    for pin in pins:
        now, then = ask(live, pin["question"]), ask(draft, pin["question"])
        out.append({**pin, "live": now, "draft": then, "changes": now["reply"] != then["reply"],
                    "fails": not _hits(then, pin), "fails_live": not _hits(now, pin)})
    return out


def _hits(reply: dict, pin: dict) -> bool:
    return reply["topic"] == pin["topic"] and (pin.get("city") or None) == reply["city"]
