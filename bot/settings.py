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
    # a callback's timestamp must be this close to now (seconds); nonces and replies are kept twice as long
    replay_window: int = 300


@dataclass(frozen=True)
class AdminSettings:
    """The staff console's security knobs. Durations are seconds; tests shorten them instead of sleeping."""
    secure_cookies: bool = False          # ADMIN_SECURE_COOKIES: set behind HTTPS (the deploy's nginx)
    trust_proxy: bool = False             # ADMIN_TRUST_PROXY: take the address from our proxy's X-Forwarded-For
    idle_timeout: float = 30 * 60
    absolute_timeout: float = 12 * 3600
    lockout_failures: int = 5             # failed logins of one account ...
    lockout_seconds: float = 15 * 60      # ... lock it this long
    address_failures: int = 20            # failed logins from one address within address_window ...
    address_window: float = 15 * 60       # ... refuse further attempts from it until the window ends
    hash_time_cost: int = 3               # Argon2id parameters; changing them rehashes at the next login
    hash_memory_kib: int = 64 * 1024
    hash_parallelism: int = 4


@dataclass(frozen=True)
class Settings:
    knowledge_root: Path = ROOT
    data_dir: Path = ROOT / "data"
    redis_url: str | None = None          # None (and no sentinels): an embedded redis-server under data_dir
    # REDIS_SENTINELS=host:port,host:port and REDIS_MASTER_NAME: the master that Sentinel names, followed
    # through failovers (instead of REDIS_URL)
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_master_name: str = ""
    session_ttl: int = 30 * 60
    key_prefix: str = "citizen-bot"
    wechat: WeChatSettings | None = None
    admin: AdminSettings = AdminSettings()
    rate_limits: dict = field(default_factory=dict)    # name -> ratelimit.Limit, over the defaults
    trust_forwarded: bool = False         # behind a proxy that sets X-Forwarded-For (the shipped nginx)
    header_timeout: float = 10.0          # seconds for a request's headers to arrive (from connect/last reply)
    body_timeout: float = 10.0            # seconds for its body (at most 64 KB) to arrive
    max_connections: int = 1000           # open connections per process; more are closed at once
    turn_memo: int = 4096                 # replies to repeated questions remembered per process; 0: off
    metrics_shared: bool = False          # several processes on one data dir: one /metrics for them all
    extra: dict = field(default_factory=dict)
    # USER_HASH_SECRET (or its old name LOG_HASH_SECRET): the one HMAC key citizens' ids are hashed under,
    # in the question log, inbox and logs alike. Unset: one is made on first start and kept in Redis
    # (`{prefix}:admin:user-hash-secret`, staff key space: no TTL, never evicted); set it to keep ids
    # apart from whoever can read Redis. See bot/state/identity.py.
    user_hash_secret: str = ""
    feedback_hint: bool = True            # WeChat answers end with "回复 1 表示有帮助，2 表示没帮助"

    @property
    def embedded_redis(self) -> bool:
        return not (self.redis_url or self.redis_sentinels)

    @property
    def admin_secure_cookies(self) -> bool:
        return self.admin.secure_cookies

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(knowledge_root=Path(env.get("KNOWLEDGE_ROOT", ROOT)),
                   data_dir=Path(env.get("DATA_DIR", ROOT / "data")),
                   redis_url=env.get("REDIS_URL") or None,
                   **_sentinels(env),
                   session_ttl=_int(env, "SESSION_TTL", 30 * 60),
                   key_prefix=env.get("REDIS_PREFIX", "citizen-bot"),
                   wechat=_wechat(env), admin=_admin(env), rate_limits=_limits(env),
                   trust_forwarded=_flag(env, "TRUST_FORWARDED"),
                   header_timeout=_int(env, "HEADER_TIMEOUT", 10), body_timeout=_int(env, "BODY_TIMEOUT", 10),
                   max_connections=_int(env, "MAX_CONNECTIONS", 1000),
                   turn_memo=_int(env, "TURN_MEMO", 4096),
                   metrics_shared=_flag(env, "METRICS_SHARED"),
                   user_hash_secret=_user_hash_secret(env),
                   feedback_hint=_flag({"FEEDBACK_HINT": "1", **env}, "FEEDBACK_HINT"))



def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def _flag(env: dict, name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 or 0, got {raw!r}")


def _user_hash_secret(env: dict) -> str:
    """USER_HASH_SECRET, or LOG_HASH_SECRET, its name when logs had a key of their own."""
    new, old = env.get("USER_HASH_SECRET", ""), env.get("LOG_HASH_SECRET", "")
    if new and old and new != old:
        raise SettingsError("USER_HASH_SECRET and LOG_HASH_SECRET differ: they are one secret now "
                            "(LOG_HASH_SECRET is its old name); keep USER_HASH_SECRET only")
    return new or old


def _sentinels(env: dict) -> dict:
    """REDIS_SENTINELS (host:port, comma-separated) with REDIS_MASTER_NAME; not together with REDIS_URL."""
    raw, master = env.get("REDIS_SENTINELS", "").strip(), env.get("REDIS_MASTER_NAME", "").strip()
    if not raw:
        return {}
    if env.get("REDIS_URL"):
        raise SettingsError("set REDIS_URL or REDIS_SENTINELS, not both")
    if not master:
        raise SettingsError("REDIS_MASTER_NAME is required with REDIS_SENTINELS (the name in `sentinel monitor`)")
    return {"redis_sentinels": tuple(_host_port(item.strip()) for item in raw.split(",") if item.strip()),
            "redis_master_name": master}


def _host_port(item: str) -> tuple[str, int]:
    host, _, port = item.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"REDIS_SENTINELS takes host:port items separated by commas, got {item!r}")
    return host.strip("[]"), int(port)       # [::1]:26379 for IPv6


def _admin(env: dict) -> AdminSettings:
    return AdminSettings(secure_cookies=_flag(env, "ADMIN_SECURE_COOKIES"),
                         trust_proxy=_flag(env, "ADMIN_TRUST_PROXY"))


def _limits(env: dict) -> dict:
    """RATE_LIMIT_CHAT_USER=20/60 (count/seconds), RATE_LIMIT_CHAT_ADDRESS, RATE_LIMIT_LOGIN ..."""
    from bot.state.limits import DEFAULTS, Limit
    out = {}
    for name in DEFAULTS:
        raw = env.get("RATE_LIMIT_" + name.upper().replace("-", "_"))
        if raw:
            try:
                out[name] = Limit.parse(raw)
            except ValueError:
                raise SettingsError(f"RATE_LIMIT_{name.upper().replace('-', '_')} must be COUNT/SECONDS such "
                                    f"as 20/60, got {raw!r}") from None
    return out


def _wechat(env: dict) -> WeChatSettings | None:
    """WeChat is optional: without WECHAT_TOKEN the /wechat callback is not served."""
    from bot.channels.wechat.settings import wechat_from_env
    return wechat_from_env(env)
