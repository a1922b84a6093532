"""WeChat settings from the environment, validated so a misconfigured process refuses to start."""
from __future__ import annotations

import re

_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")
_AES_KEY = re.compile(r"^[A-Za-z0-9]{43}$")


def wechat_from_env(env: dict):
    from ..settings import SettingsError, WeChatSettings
    token = env.get("WECHAT_TOKEN")
    if token is None:
        if env.get("WECHAT_AES_KEY") or env.get("WECHAT_APPID"):
            raise SettingsError("WECHAT_TOKEN is missing: it is required when WECHAT_APPID or "
                                "WECHAT_AES_KEY is set (the Token from the official account's server settings)")
        return None
    if not _TOKEN.match(token):
        raise SettingsError("WECHAT_TOKEN must be 3-32 letters or digits, as WeChat's console requires")
    aes_key = env.get("WECHAT_AES_KEY") or None
    if aes_key is not None and not _AES_KEY.match(aes_key):
        raise SettingsError("WECHAT_AES_KEY must be the 43-character EncodingAESKey (letters and digits) "
                            "from WeChat's console, or unset for plaintext mode")
    appid = env.get("WECHAT_APPID", "")
    if aes_key and not appid:
        raise SettingsError("WECHAT_APPID is required in compatible/safe mode (WECHAT_AES_KEY set)")
    return WeChatSettings(token=token, appid=appid, aes_key=aes_key,
                          appsecret=env.get("WECHAT_APPSECRET", ""),
                          api_base=env.get("WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/"))
