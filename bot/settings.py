"""Environment -> typed settings, read once at start-up and passed in everywhere else."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class WeChatSettings:
    token: str
    appid: str = ""
    aes_key: str | None = None       # the 43-character EncodingAESKey; None means plaintext mode
    appsecret: str = ""
    api_base: str = "https://api.weixin.qq.com"
    # WeChat gives up after 5 s; answer (or say "success" and send later) well before that
    reply_deadline: float = 4.0


@dataclass(frozen=True)
class Settings:
    knowledge_root: Path = ROOT
    data_dir: Path = ROOT / "data"
    redis_url: str | None = None          # None: an embedded redis-server under data_dir
    session_ttl: int = 30 * 60
    key_prefix: str = "citizen-bot"
    wechat: WeChatSettings | None = None
    extra: dict = field(default_factory=dict)
    # The key of the HMAC that citizens' ids are stored under (inbox, question log). Unset: one is made
    # on first start and kept in Redis (`{prefix}:secret:user-hash`, no TTL); set it to keep ids apart
    # from whoever can read Redis.
    user_hash_secret: str = ""
    feedback_hint: bool = True            # WeChat answers end with "回复 1 表示有帮助，2 表示没帮助"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(knowledge_root=Path(env.get("KNOWLEDGE_ROOT", ROOT)),
                   data_dir=Path(env.get("DATA_DIR", ROOT / "data")),
                   redis_url=env.get("REDIS_URL") or None,
                   session_ttl=_int(env, "SESSION_TTL", 30 * 60),
                   key_prefix=env.get("REDIS_PREFIX", "citizen-bot"),
                   wechat=_wechat(env),
                   user_hash_secret=env.get("USER_HASH_SECRET", ""),
                   feedback_hint=_flag(env, "FEEDBACK_HINT", True))


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def _flag(env: dict, name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise SettingsError(f"{name} must be true or false, got {raw!r}")
    return raw in ("1", "true", "yes", "on")


def _wechat(env: dict) -> WeChatSettings | None:
    """WeChat is optional: without WECHAT_TOKEN the /wechat callback is not served."""
    from bot.channels.wechat.settings import wechat_from_env
    return wechat_from_env(env)
