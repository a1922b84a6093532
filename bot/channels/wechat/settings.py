"""WeChat settings from the environment, validated so a misconfigured process refuses to start."""
from __future__ import annotations

import re

_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")
_AES_KEY = re.compile(r"^[A-Za-z0-9]{43}$")
_APPID = re.compile(r"^wx[0-9A-Za-z]{16}$")
_APPSECRET = re.compile(r"^[0-9A-Za-z]{32}$")
_API_BASE = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
DEFAULT_API_BASE = "https://api.weixin.qq.com"


def wechat_from_env(env: dict):
    from bot.settings import SettingsError, WeChatSettings
    token = env.get("WECHAT_TOKEN")
    if token is None:
        if env.get("WECHAT_AES_KEY") or env.get("WECHAT_APPID") or env.get("WECHAT_APPSECRET"):
            raise SettingsError("WECHAT_TOKEN is missing: it is required when WECHAT_APPID, WECHAT_AES_KEY or "
                                "WECHAT_APPSECRET is set (the Token from the official account's server settings)")
        return None
    if not _TOKEN.fullmatch(token):
        raise SettingsError("WECHAT_TOKEN must be 3-32 letters or digits, as WeChat's console requires")
    aes_key = env.get("WECHAT_AES_KEY") or None
    if aes_key is not None and not _AES_KEY.fullmatch(aes_key):
        raise SettingsError("WECHAT_AES_KEY must be the 43-character EncodingAESKey (letters and digits) "
                            "from WeChat's console, or unset for plaintext mode")
    appid = env.get("WECHAT_APPID", "")
    appsecret = env.get("WECHAT_APPSECRET", "")
    _check_account(appid, appsecret, aes_key)
    api_base = env.get("WECHAT_API_BASE") or DEFAULT_API_BASE
    if not _API_BASE.fullmatch(api_base):
        raise SettingsError(f"WECHAT_API_BASE must be an http(s) URL such as {DEFAULT_API_BASE}, got {api_base!r}")
    return WeChatSettings(token=token, appid=appid, aes_key=aes_key, appsecret=appsecret,
                          api_base=api_base.rstrip("/"), replay_window=_window(env))


def _window(env: dict) -> int:
    from bot.settings import SettingsError
    raw = env.get("WECHAT_REPLAY_WINDOW") or "300"
    if not raw.isdigit() or not 30 <= int(raw) <= 3600:
        raise SettingsError(f"WECHAT_REPLAY_WINDOW must be 30-3600 seconds, got {raw!r}")
    return int(raw)


def _check_account(appid: str, appsecret: str, aes_key: str | None) -> None:
    from bot.settings import SettingsError
    if appid and not _APPID.fullmatch(appid):
        raise SettingsError("WECHAT_APPID must be the AppID from WeChat's console: \"wx\" and 16 letters or digits")
    if aes_key and not appid:
        raise SettingsError("WECHAT_APPID is required in compatible/safe mode (WECHAT_AES_KEY set)")
    if appsecret and not _APPSECRET.fullmatch(appsecret):
        raise SettingsError("WECHAT_APPSECRET must be the 32-character AppSecret from WeChat's console")
    if appsecret and not appid:
        raise SettingsError("WECHAT_APPID is required with WECHAT_APPSECRET (both are needed for an access token)")
