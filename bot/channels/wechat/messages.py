"""What each kind of WeChat message means for the conversation: text in, reply text out.

Questions go to the dialogue unchanged; this module only translates WeChat's message kinds (voice,
menu clicks, locations, pictures, subscriptions) into questions, session facts or short hints.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.channels.wechat import text as say
from bot.dialogue.record import Recorder
from bot.dialogue.replies import canonical_question
from bot.dialogue.turn import Dialogue
from bot.models import Inbound
from bot.state.resilient import DEGRADED
from bot.state.store import Store
from bot.understanding.holder import BrainHolder
from bot.understanding.places import nearest_city


@dataclass(frozen=True)
class Conversation:
    """What answering a WeChat message needs."""
    dialogue: Dialogue
    store: Store
    brains: BrainHolder           # the live knowledge: `brains.brain.knowledge`
    recorder: Recorder | None = None   # ratings: with `feedback_hint`, an answer's next "1"/"2" rates it
    feedback_hint: bool = False


def user_id(openid: str) -> str:
    """Sessions of WeChat users live apart from web users, whose ids the browser chooses."""
    return "wechat:" + openid


async def respond(msg, c: Conversation, kind: str, event: str = "") -> str:
    """The reply text for a parsed wechatpy message of MsgType `kind`; "" when there is nothing to say.

    `kind` and `event` come from the XML itself: wechatpy turns every type it does not know into one
    UnknownMessage, and an unknown event must stay silent where an unknown message gets a hint.
    """
    if kind == "event":
        handler = _EVENTS.get(event)
        return await handler(msg, c) if handler else ""
    return await _MESSAGES.get(kind, _media)(msg, c)


async def ask(c: Conversation, openid: str, text: str, msg_id: str | None = None) -> str:
    user = user_id(openid)
    if text.strip().rstrip("。.！!～~") in say.MORE_WORDS:
        rest = await c.store.pop_more(user)
        return await page(c, openid, rest) if rest else say.NOTHING_MORE
    rated = await _rating(c, user, text)
    if rated:
        return rated
    inbound = Inbound("wechat", user, text, msg_id)
    reply = await c.dialogue.handle(inbound)
    return await page(c, openid, say.render(reply) + await _offer(c, inbound, reply))


async def _rating(c: Conversation, user: str, text: str) -> str:
    """"1" or "2" right after an answer that asked for a rating is the rating, not a question."""
    word = text.strip().rstrip("。.！!")
    if not (c.recorder and c.feedback_hint and word in say.RATINGS):
        return ""
    # With Redis away it cannot be known whether an answer awaits a rating; a bare "1" or "2" is still
    # not a question, so the user hears the rating was not kept rather than a fallback.
    hashed = await c.recorder.user(user)
    offer = await c.store.guarded("rating", lambda: c.recorder.offers.awaited(hashed)) if hashed else DEGRADED
    if offer is DEGRADED:
        return say.RATING_AWAY
    if not offer:
        return ""
    if await c.recorder.rate(offer, user, say.RATINGS[word]):
        return say.THANKS
    return say.RATING_AWAY if c.store.breaker.is_open else ""       # Redis went away meanwhile


async def _offer(c: Conversation, inbound: Inbound, reply) -> str:
    """The rating hint for an answer (and the offer its "1"/"2" will rate); "" otherwise."""
    if not (c.recorder and c.feedback_hint):
        return ""
    # guarded: with Redis away, no hint for a rating not kept; made, it is the one the next "1"/"2" rates
    offer = await c.recorder.offer(inbound, reply, awaited=True)
    if offer is None:
        await c.recorder.await_rating(inbound.user_id, None)     # an earlier answer's "1"/"2" lapses
    return say.RATE_HINT if offer else ""


async def page(c: Conversation, openid: str, text: str) -> str:
    """What fits in one message; the rest waits in Redis for "继续"."""
    head, rest = say.fit(text)
    await c.store.put_more(user_id(openid), rest)
    return head


async def _text(msg, c: Conversation) -> str:
    return await ask(c, msg.source, _string(msg.content), str(msg.id))


async def _voice(msg, c: Conversation) -> str:
    heard = _string(msg.recognition).strip()
    return await ask(c, msg.source, heard, str(msg.id)) if heard else say.VOICE_UNRECOGNISED


async def _media(msg, c: Conversation) -> str:
    return say.MEDIA_HINT


async def _welcome(msg, c: Conversation) -> str:
    return say.welcome(_cities(c))


def _cities(c: Conversation) -> tuple[str, ...]:
    return c.brains.brain.knowledge.answered_cities


async def _menu(msg, c: Conversation) -> str:
    """A menu button whose key is a topic id asks that topic's first example question."""
    topic = c.brains.brain.knowledge.topic(_string(msg.key).strip())
    return await ask(c, msg.source, canonical_question(topic)) if topic else say.menu_unknown(_cities(c))


async def _location_event(msg, c: Conversation) -> str:
    # WeChat reports the location on entering the chat (and may every 5 s): confirm only a change
    city = _nearest(msg, "latitude", "longitude")
    session = await c.store.load_session(user_id(msg.source))
    if city is None or session.home == city:
        return ""
    await c.dialogue.remember_city(user_id(msg.source), city)
    return say.located(city)


async def _location_message(msg, c: Conversation) -> str:
    city = _nearest(msg, "location_x", "location_y")
    if city is None:
        return say.outside(_cities(c)) if _coordinates(msg, "location_x", "location_y") else say.MEDIA_HINT
    await c.dialogue.remember_city(user_id(msg.source), city)
    return say.located(city)


def _coordinates(msg, lat_field: str, lon_field: str) -> tuple[float, float] | None:
    try:      # wechatpy converts on attribute access, so a malformed number raises here
        lat, lon = float(getattr(msg, lat_field)), float(getattr(msg, lon_field))
    except (TypeError, ValueError):
        return None
    valid = -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0.0, 0.0)
    return (lat, lon) if valid else None


def _nearest(msg, lat_field: str, lon_field: str) -> str | None:
    point = _coordinates(msg, lat_field, lon_field)
    return nearest_city(*point) if point else None


def _string(value) -> str:
    """Element text as a string: an empty element parses as None, a nested one as a dict."""
    return value if isinstance(value, str) else ""


Handler = Callable[[object, Conversation], Awaitable[str]]
_MESSAGES: dict[str, Handler] = {"text": _text, "voice": _voice, "location": _location_message}
_EVENTS: dict[str, Handler] = {"subscribe": _welcome, "subscribe_scan": _welcome, "click": _menu,
                               "location": _location_event}
