"""/metrics in Prometheus format (in one process and shared by several), and JSON log lines with request
ids in which citizens' ids appear only as keyed hashes."""
from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.observability.logs import REQUEST_ID, JsonFormatter, pseudonym

from .served import Served


def samples(text: str) -> dict[tuple, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(found: dict, name: str, **labels) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and all(dict(ls).get(k) == w for k, w in labels.items()))


async def test_metrics_count_requests_outcomes_and_refusals(client):
    before = samples(await (await client.get("/metrics")).text())
    await client.post("/api/chat", json={"user_id": "m1", "text": "平泉坐公交车要多少钱"})
    await client.post("/api/chat", json={"user_id": "m1", "text": "火星移民签证怎么办理"})
    await client.post("/api/chat", json={"user_id": "m1", "text": "老旧小区改造进展怎么样"})
    for _ in range(20):
        await client.post("/api/chat", json={"user_id": "m1", "text": "你好"})
    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
    after = samples(await resp.text())

    def grew(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)
    assert grew("citizen_bot_requests_total", route="/api/chat", status="200") == 20
    assert grew("citizen_bot_requests_total", route="/api/chat", status="429") == 3
    assert grew("citizen_bot_request_seconds_count", route="/api/chat") == 23
    for outcome in ("answer", "fallback", "clarify"):
        assert grew("citizen_bot_answers_total", channel="web", outcome=outcome) >= 1, outcome
    assert grew("citizen_bot_rate_limited_total", limit="chat-user") == 3
    names = {n for n, _ in after}
    assert "citizen_bot_event_loop_lag_seconds_count" in names
    assert "citizen_bot_wechat_dedup_hits_total" in names


async def test_every_response_carries_a_request_id(client):
    resp = await client.get("/healthz", headers={"X-Request-Id": "trace-12345678"})
    assert resp.headers["X-Request-Id"] == "trace-12345678"
    resp = await client.get("/healthz", headers={"X-Request-Id": "bad id <script>"})
    assert len(resp.headers["X-Request-Id"]) == 16


def test_json_log_line_has_time_level_request_id_and_no_raw_openid():
    REQUEST_ID.set("req-abcdef12")
    record = logging.makeLogRecord({"name": "t", "levelname": "WARNING", "levelno": 30, "msg": "late %s",
                                    "args": ("reply",), "user": pseudonym("oSecretOpenid")})
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "warning" and line["request_id"] == "req-abcdef12" and line["time"].endswith("Z")
    # u: under the deployment's secret, p: under a per-process key before it is known (bot/state/identity.py)
    assert line["message"] == "late reply" and line["user"][:2] in ("u:", "p:") and len(line["user"]) == 18
    assert "oSecretOpenid" not in json.dumps(line)
    assert pseudonym("oSecretOpenid") == pseudonym("oSecretOpenid") != pseudonym("oOther")


@pytest.fixture
async def two_shared(redis_server, tmp_path):
    env = {"METRICS_SHARED": "1", "USER_HASH_SECRET": "test-secret"}
    started = [Served(redis_server.url, tmp_path / f"serve-{n}.log", env=env) for n in "ab"]
    try:
        await asyncio.gather(*(s.wait_ready() for s in started))
        yield tmp_path, started
    finally:
        for s in started:
            s.stop()


async def test_shared_metrics_add_up_every_process_and_logs_are_json(two_shared):
    data, (a, b) = two_shared
    async with aiohttp.ClientSession() as http:
        for server, n in ((a, 2), (b, 3)):
            for i in range(n):
                async with http.post(server.url + "/api/chat",
                                     json={"user_id": f"secret-user-{i}", "text": "平泉坐公交车要多少钱"}) as resp:
                    assert resp.status == 200
        async with http.get(a.url + "/metrics") as resp:
            found = samples(await resp.text())
    assert total(found, "citizen_bot_requests_total", route="/api/chat", status="200") == 5
    assert list((data / "metrics").glob("*.db"))
    a.stop()
    lines = [json.loads(line) for line in (data / "serve-a.log").read_text().splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "request_id", "message"} <= set(line) for line in lines)
    assert any(line.get("route") == "/api/chat" for line in lines)
    assert "secret-user" not in (data / "serve-a.log").read_text()
