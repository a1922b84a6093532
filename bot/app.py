"""create_app(settings): the one place that wires knowledge, matching, dialogue, store and channels."""
from __future__ import annotations

from contextlib import asynccontextmanager

from aiohttp import web
from redis.asyncio import Redis

from bot.state import resilient

from bot import keys
from bot.dialogue.lanes import Lanes
from bot.dialogue.turn import Dialogue
from bot.settings import Settings
from bot.state.embedded import EmbeddedRedis, client_name
from bot.state.resilient import ResilientStore
from bot.understanding.brain import build_brain

MAX_BODY = 64 * 1024


@asynccontextmanager
async def redis_for(settings: Settings):
    """A client for REDIS_URL, or for the embedded server when it is unset."""
    embedded = None
    if settings.redis_url:
        client = resilient.connect(settings.redis_url, name=client_name())
    else:
        embedded = EmbeddedRedis(settings.data_dir)
        client = await embedded.start()
        embedded.supervise(client)
    try:
        yield client
    finally:
        if embedded:
            await embedded.stop(client)
        await client.aclose()


def make_dialogue(settings: Settings, redis: Redis) -> tuple[Dialogue, ResilientStore]:
    brain = build_brain(settings.knowledge_root)
    store = ResilientStore(redis, settings.key_prefix, settings.session_ttl)
    dialogue = Dialogue(brain, store)
    dialogue.lanes = Lanes()           # turns' CPU work off the event loop, WeChat in a lane of its own
    return dialogue, store


@asynccontextmanager
async def open_dialogue(settings: Settings):
    """For the CLI: a dialogue on the configured Redis, closed on exit."""
    async with redis_for(settings) as redis:
        yield make_dialogue(settings, redis)[0]


def create_app(settings: Settings, redis: Redis | None = None) -> web.Application:
    """The whole service on one port. Pass `redis` to share a client (tests); else one is opened."""
    from bot.channels.web import api as web_channel
    from bot.channels.web import guard
    from bot.observability import http as observability

    app = web.Application(client_max_size=MAX_BODY, middlewares=[observability.observe, web_channel.json_errors,
                                                                    guard.read_deadline, guard.rate_limits])
    app[keys.SETTINGS] = settings
    build_brain(settings.knowledge_root)        # fail at start-up, not on the first question

    async def lifecycle(app: web.Application):
        async with _redis_or(redis, settings) as client:
            app[keys.DIALOGUE], app[keys.STORE] = make_dialogue(settings, client)
            yield
            app[keys.DIALOGUE].lanes.close()

    app.cleanup_ctx.append(lifecycle)
    guard.setup(app)
    observability.setup(app)
    web_channel.setup(app)
    if settings.wechat:
        from bot.channels.wechat import callback as wechat
        wechat.setup(app, settings.wechat)
    return app


@asynccontextmanager
async def _redis_or(redis: Redis | None, settings: Settings):
    if redis is not None:
        yield redis
    else:
        async with redis_for(settings) as client:
            yield client
