"""WeChat settings: a misconfigured process refuses to start and says what to fix."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError

from .wechat_fixtures import AES_KEY, APPID, APPSECRET, TOKEN

GOOD = {"WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_AES_KEY": AES_KEY, "WECHAT_APPSECRET": APPSECRET}


def test_full_configuration_is_read():
    ws = Settings.from_env({**GOOD, "WECHAT_API_BASE": "http://127.0.0.1:9/"}).wechat
    assert (ws.token, ws.appid, ws.aes_key, ws.appsecret) == (TOKEN, APPID, AES_KEY, APPSECRET)
    assert ws.api_base == "http://127.0.0.1:9"


def test_plaintext_mode_needs_only_the_token():
    ws = Settings.from_env({"WECHAT_TOKEN": TOKEN}).wechat
    assert ws.aes_key is None and ws.api_base == "https://api.weixin.qq.com"


def test_no_token_means_no_wechat_channel():
    assert Settings.from_env({}).wechat is None


BAD = {
    "token missing": ({"WECHAT_APPID": APPID, "WECHAT_AES_KEY": AES_KEY}, "WECHAT_TOKEN is missing"),
    "token malformed": ({"WECHAT_TOKEN": "no spaces allowed"}, "WECHAT_TOKEN must be"),
    "token too short": ({"WECHAT_TOKEN": "ab"}, "WECHAT_TOKEN must be"),
    "key too short": ({**GOOD, "WECHAT_AES_KEY": AES_KEY[:42]}, "WECHAT_AES_KEY must be the 43-character"),
    "key not base64": ({**GOOD, "WECHAT_AES_KEY": AES_KEY[:42] + "/"}, "WECHAT_AES_KEY must be the 43-character"),
    "key without appid": ({"WECHAT_TOKEN": TOKEN, "WECHAT_AES_KEY": AES_KEY}, "WECHAT_APPID is required"),
    "appid malformed": ({**GOOD, "WECHAT_APPID": "gh_123"}, "WECHAT_APPID must be"),
    "secret malformed": ({**GOOD, "WECHAT_APPSECRET": "secret"}, "WECHAT_APPSECRET must be"),
    "secret without appid": ({"WECHAT_TOKEN": TOKEN, "WECHAT_APPSECRET": APPSECRET}, "WECHAT_APPID is required"),
    "api base not a URL": ({**GOOD, "WECHAT_API_BASE": "api.weixin.qq.com"}, "WECHAT_API_BASE must be"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_configuration_is_refused_with_a_clear_message(case):
    env, message = BAD[case]
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def _serve(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_")}
    script = Path(sys.executable).with_name("citizen-bot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    return subprocess.run([*command, "serve", "--port", "9"], env={**clean, **env}, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("case", ["token malformed", "key too short", "token missing"])
def test_serve_refuses_to_start_on_bad_wechat_settings(case):
    env, message = BAD[case]
    done = _serve(env)
    assert done.returncode == 2
    assert "configuration error" in done.stderr and message in done.stderr
    assert "serving" not in done.stdout
