"""create_app(settings): the one place that wires knowledge, matching, dialogue, store and channels."""
from __future__ import annotations

from contextlib import asynccontextmanager

from aiohttp import web
from redis.asyncio import Redis

from bot import keys
from bot.dialogue.lanes import Lanes
from bot.dialogue.memo import TurnMemo
from bot.dialogue.record import Recorder
from bot.dialogue.turn import Dialogue
from bot.knowledge.versions import Versions
from bot.observability import logs
from bot.settings import Settings
from bot.state import resilient
from bot.state.embedded import EmbeddedRedis, client_name
from bot.state.feedback import Offers
from bot.state.identity import UserHashes
from bot.state.inbox import Inbox
from bot.state.questions import QuestionLog
from bot.state.resilient import ResilientStore
from bot.understanding.brain import Brain
from bot.understanding.holder import BrainCache, BrainHolder
from bot.understanding.stored import StoredBrains

MAX_BODY = 64 * 1024


@asynccontextmanager
async def redis_for(settings: Settings):
    """A client for REDIS_SENTINELS' master, for REDIS_URL, or for the embedded server when neither is set."""
    embedded = None
    if settings.redis_sentinels:
        client = resilient.connect_sentinel(settings.redis_sentinels, settings.redis_master_name, client_name())
    elif settings.redis_url:
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


def versions_for(settings: Settings, redis: Redis) -> Versions:
    return Versions(redis, settings.key_prefix, settings.knowledge_root)


def make_dialogue(settings: Settings, redis: Redis, brain: Brain | BrainHolder,
                  record: bool = False) -> tuple[Dialogue, ResilientStore]:
    """The dialogue on a guarded store; with `record`, turns leave the question log, inbox and offers."""
    store = ResilientStore(redis, settings.key_prefix, settings.session_ttl)
    dialogue = Dialogue(brain, store, make_recorder(settings, store, brain) if record else None)
    dialogue.lanes = Lanes()           # turns' CPU work off the event loop, WeChat in a lane of its own
    dialogue.memo = TurnMemo(settings.turn_memo)
    return dialogue, store


def make_recorder(settings: Settings, store: ResilientStore, brain: Brain | BrainHolder) -> Recorder:
    """The question log, inbox and rating offers, with users hashed under the deployment's one secret
    (logs use it too, once it is known)."""
    redis, p = store.redis, settings.key_prefix
    hashes = UserHashes(store, p, settings.user_hash_secret, on_known=logs.use_secret)
    return Recorder(QuestionLog(redis, p), Inbox(redis, p), Offers(redis, p), hashes, brain, store)


@asynccontextmanager
async def open_holder(settings: Settings, redis: Redis, brains: BrainCache | None = None):
    """The live Brain, following publishes until the block ends."""
    brains = brains or BrainCache(stored=StoredBrains(settings.data_dir / "brains"))
    holder = BrainHolder(versions_for(settings, redis), cache=brains)
    await holder.start()
    try:
        yield holder
    finally:
        await holder.stop()


@asynccontextmanager
async def open_dialogue(settings: Settings):
    """For the CLI: a dialogue on the configured Redis and its live knowledge, closed on exit."""
    async with redis_for(settings) as redis, open_holder(settings, redis) as holder:
        yield make_dialogue(settings, redis, holder)[0]


@asynccontextmanager
async def open_versions(settings: Settings):
    """For `citizen-bot kb`: the knowledge versions on the configured Redis, seeded if new."""
    async with redis_for(settings) as redis:
        versions = versions_for(settings, redis)
        await versions.ensure_seeded()
        yield versions


def create_app(settings: Settings, redis: Redis | None = None, brains: BrainCache | None = None) -> web.Application:
    """The whole service on one port. Pass `redis` to share a client (tests); else one is opened.
    Pass `brains` to share built Brains between apps (tests)."""
    from bot.admin import api as admin_api
    from bot.admin import pages as admin_pages
    from bot.channels.web import api as web_channel
    from bot.channels.web import guard
    from bot.observability import http as observability

    app = web.Application(client_max_size=MAX_BODY, middlewares=[observability.observe, web_channel.json_errors,
                                                                    guard.read_deadline, guard.rate_limits])
    app[keys.SETTINGS] = settings

    async def lifecycle(app: web.Application):
        async with _redis_or(redis, settings) as client, open_holder(settings, client, brains) as holder:
            app[keys.VERSIONS], app[keys.BRAIN] = holder.versions, holder
            app[keys.DIALOGUE], app[keys.STORE] = make_dialogue(settings, client, holder, record=True)
            app[keys.RECORDER] = app[keys.DIALOGUE].recorder
            await app[keys.RECORDER].hashes.secret()        # now if Redis answers, else at its first use
            admin_api.start(app, settings, client)
            yield
            app[keys.DIALOGUE].lanes.close()

    app.cleanup_ctx.append(lifecycle)
    guard.setup(app)
    observability.setup(app)
    web_channel.setup(app)
    admin_api.setup(app)              # /api/admin/
    admin_pages.setup(app)            # the staff console at /admin/, a static page over that API
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
