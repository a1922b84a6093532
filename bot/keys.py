"""Typed keys for what create_app puts on the aiohttp application, shared by every channel."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.dialogue.record import Recorder
    from bot.dialogue.turn import Dialogue
    from bot.knowledge.versions import Versions
    from bot.settings import Settings
    from bot.state.resilient import ResilientStore
    from bot.understanding.holder import BrainHolder

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DIALOGUE: web.AppKey[Dialogue] = web.AppKey("dialogue")
STORE: web.AppKey[ResilientStore] = web.AppKey("store")
BRAIN: web.AppKey[BrainHolder] = web.AppKey("brain")          # the live Brain: `app[BRAIN].brain`
VERSIONS: web.AppKey[Versions] = web.AppKey("versions")       # knowledge versions, draft, golden questions
RECORDER: web.AppKey[Recorder] = web.AppKey("recorder")     # question log, inbox, rating offers
