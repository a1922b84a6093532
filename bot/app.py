"""create_app(settings): the one place that wires knowledge, matching, dialogue, store and channels."""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis

from . import keys
from . import knowledge as knowledge_mod
from .dialogue import Dialogue
from .knowledge import CITIES, Knowledge
from .matcher import Matcher
from .passages import PassageSearch
from .places import Gazetteer
from .redis_embedded import EmbeddedRedis
from .settings import Settings
from .spelling import SoundAlike
from .store import Store
from .text import normalize
from .tokens import Tokenizer

MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Brain:
    """Everything read-only that answering needs, built once from the knowledge."""
    knowledge: Knowledge
    matcher: Matcher
    passages: PassageSearch
    gazetteer: Gazetteer
    spelling: SoundAlike


@lru_cache(maxsize=4)
def build_brain(root: Path) -> Brain:
    kn = knowledge_mod.load(root)
    gazetteer = Gazetteer(kn)
    vocabulary = [w for t in kn.topics for w in (t.title, *t.keywords)] + list(gazetteer.place_names())
    tokenizer = Tokenizer(vocabulary)
    spelling = SoundAlike(_knowledge_words(kn, tokenizer) + vocabulary + list(CITIES), tokenizer.is_word,
                          tokenizer.cut)
    return Brain(kn, Matcher(kn, tokenizer), PassageSearch(kn, tokenizer), gazetteer, spelling)


def _knowledge_words(kn: Knowledge, tokenizer: Tokenizer) -> list[str]:
    texts = [text for t in kn.topics for text in (*t.examples, *(a.text for a in t.answers.values()))]
    return [w for text in texts for w in tokenizer.words(normalize(text))]


@asynccontextmanager
async def redis_for(settings: Settings):
    """A client for REDIS_URL, or for the embedded server when it is unset."""
    embedded = None
    if settings.redis_url:
        client = Redis.from_url(settings.redis_url)
    else:
        embedded = EmbeddedRedis(settings.data_dir)
        client = await embedded.start()
    try:
        yield client
    finally:
        if embedded:
            await embedded.stop(client)
        await client.aclose()


def make_dialogue(settings: Settings, redis: Redis) -> tuple[Dialogue, Store]:
    brain = build_brain(settings.knowledge_root)
    store = Store(redis, settings.key_prefix, settings.session_ttl)
    return Dialogue(brain, store), store


@asynccontextmanager
async def open_dialogue(settings: Settings):
    """For the CLI: a dialogue on the configured Redis, closed on exit."""
    async with redis_for(settings) as redis:
        yield make_dialogue(settings, redis)[0]


def create_app(settings: Settings, redis: Redis | None = None) -> web.Application:
    """The whole service on one port. Pass `redis` to share a client (tests); else one is opened."""
    from .channels import web as web_channel

    app = web.Application(client_max_size=MAX_BODY, middlewares=[web_channel.json_errors])
    app[keys.SETTINGS] = settings
    build_brain(settings.knowledge_root)        # fail at start-up, not on the first question

    async def lifecycle(app: web.Application):
        async with _redis_or(redis, settings) as client:
            app[keys.DIALOGUE], app[keys.STORE] = make_dialogue(settings, client)
            yield

    app.cleanup_ctx.append(lifecycle)
    web_channel.setup(app)
    if settings.wechat:
        from .channels import wechat
        wechat.setup(app, settings.wechat)
    return app


@asynccontextmanager
async def _redis_or(redis: Redis | None, settings: Settings):
    if redis is not None:
        yield redis
    else:
        async with redis_for(settings) as client:
            yield client
