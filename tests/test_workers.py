"""`citizen-bot serve --workers 2` as a real supervisor with two worker processes on one port and the
embedded redis-server the supervisor starts: a few hundred mixed conversations at once (the chat API,
the web chat and WeChat in safe mode) each get the reply one process gives in-process, every session
stays consistent while its turns land on either worker, a worker killed with SIGKILL is replaced while
serving goes on, and SIGTERM lets a request in flight finish, then stops the workers and Redis."""
from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.channels.web.page import COOKIE
from bot.dialogue.evaluation import judge
from bot.models import Inbound
from bot.settings import ROOT

from .served import Served
from .wechat_fixtures import AES_KEY, APPID, TOKEN
from .wechat_sim import WeChatSim

CASES = yaml.safe_load((ROOT / "tests" / "data" / "dev.yaml").read_text(encoding="utf-8"))
ENV = {"WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_AES_KEY": AES_KEY,
       "RATE_LIMIT_CHAT_ADDRESS": "100000/60", "RATE_LIMIT_CHAT_USER": "1000/60"}
CONCURRENT = 16     # conversations in flight at once: within one worker's web lane (16), so none is shed
BOUND = 90.0                    # seconds: a bound on waits (start-up, replacement, exit), not a timing
TIMEOUT = aiohttp.ClientTimeout(total=30)


@pytest.fixture
async def served(tmp_path):
    server = Served(None, tmp_path / "data" / "serve.log", env=ENV, workers=2)   # None: the embedded Redis
    try:
        await server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
async def http():
    # A new connection per request, so that successive turns of one conversation reach either worker.
    connector = aiohttp.TCPConnector(force_close=True, limit=CONCURRENT)
    async with aiohttp.ClientSession(timeout=TIMEOUT, connector=connector,
                                     cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


@pytest.fixture
async def expected(dialogue):
    """Each case's replies, turn by turn, from one process in-process: what every worker must say."""
    out = {}
    for case in CASES:
        user = "ref-" + uuid.uuid4().hex[:8]
        out[case["id"]] = [(await dialogue.handle(Inbound("web", user, t))).text for t in case["turns"]]
    assert sum(judge(c, out[c["id"]][-1])[0] for c in CASES) == len(CASES)     # the reference is right
    return out


async def test_two_workers_serve_mixed_conversations_survive_a_kill_and_drain(served, http, expected):
    workers = await both_workers(http, served)
    seen: list[str] = []                                   # X-Worker of every turn
    sim = WeChatSim(served.wechat, TOKEN, appid=APPID, aes_key=AES_KEY, mode="safe")
    try:
        conversations = ([("chat", c) for c in CASES * 4] + [("web", c) for c in CASES]
                         + [("wechat", c) for c in CASES])
        random.Random(7).shuffle(conversations)
        gate = asyncio.Semaphore(CONCURRENT)
        used = await asyncio.gather(*(converse(kind, case, http, sim, served, expected, seen, gate)
                                      for kind, case in conversations))
    finally:
        await sim.close()
    assert len(conversations) > 300
    assert len(seen) == 5 * sum(len(c["turns"]) for c in CASES)        # each HTTP turn answered once
    assert set(seen) == workers                                        # ... by both workers
    assert any(len(pids) == 2 for pids in used), "some conversation moved between workers"

    victim = workers.pop()
    os.kill(int(victim), signal.SIGKILL)
    replacement = await new_worker(http, served, gone=victim, staying=workers)
    assert replacement not in (victim, *workers)
    await asyncio.gather(*(converse("chat", c, http, None, served, expected, [], asyncio.Semaphore(8))
                           for c in CASES[:20]))            # the pair serves conversations again

    await drains_on_sigterm(served, expected)


async def converse(kind, case, http, sim, served, expected, seen, gate) -> set[str]:
    """One citizen's conversation, a turn at a time; each reply checked against the reference. Returns
    the workers that answered its HTTP turns (also added to `seen`)."""
    mine: list[str] = []
    async with gate:
        user, browser = "mw-" + uuid.uuid4().hex[:10], None
        for turn, text in enumerate(case["turns"]):
            want = expected[case["id"]][turn]
            if kind == "wechat":
                answer = await sim.post(sim.text(text, user="o" + user))
                assert answer.status == 200
                assert want[:40] in answer.text, (case["id"], turn, answer.text)
                reply = answer.text
            elif kind == "web":
                headers = {"Cookie": f"{COOKIE}={browser}"} if browser else {}
                async with http.post(served.url + "/api/web/chat", json={"text": text}, headers=headers) as resp:
                    assert resp.status == 200, await resp.text()
                    reply, browser = (await resp.json())["reply"], resp.cookies[COOKIE].value
                    mine.append(resp.headers["X-Worker"])
                assert reply == want, (case["id"], turn)
            else:
                async with http.post(served.url + "/api/chat", json={"user_id": user, "text": text}) as resp:
                    assert resp.status == 200, await resp.text()
                    reply = (await resp.json())["reply"]
                    mine.append(resp.headers["X-Worker"])
                assert reply == want, (case["id"], turn)
        assert judge(case, reply)[0], (kind, case["id"], reply)
        if kind == "web":
            await history_is_the_conversation(http, served, browser, case["turns"], expected[case["id"]])
    seen.extend(mine)
    return set(mine)


async def history_is_the_conversation(http, served, browser, turns, replies) -> None:
    """The stored conversation: each question once, in order, each followed by its own reply."""
    async with http.get(served.url + "/api/web/history", headers={"Cookie": f"{COOKIE}={browser}"}) as resp:
        messages = (await resp.json())["messages"]
    assert [m["role"] for m in messages] == ["user", "bot"] * len(turns), messages
    assert [m["text"] for m in messages[::2]] == list(turns)
    assert [m["reply"] for m in messages[1::2]] == list(replies)


async def worker_of(http, served) -> str | None:
    try:
        async with http.get(served.url + "/healthz") as resp:
            return resp.headers.get("X-Worker") if resp.status == 200 else None
    except aiohttp.ClientError:
        return None


async def both_workers(http, served) -> set[str]:
    """The two workers' pids, once both answer (the second may still be loading its knowledge)."""
    found: set[str] = set()
    deadline = time.monotonic() + BOUND
    while len(found) < 2 and time.monotonic() < deadline:
        found.discard(None)
        found.add(await worker_of(http, served))
        await asyncio.sleep(0.01)
    found.discard(None)
    assert len(found) == 2, found
    assert found == children(served.process.pid, "python"), "the workers are the supervisor's children"
    return found


async def new_worker(http, served, gone: str, staying: set[str]) -> str:
    """The pid of the worker that replaced `gone`; every request meanwhile reaches a live worker."""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        pid = await worker_of(http, served)
        assert pid != gone
        if pid is not None and pid not in staying:
            assert children(served.process.pid, "python") == {pid, *staying}
            return pid
        await asyncio.sleep(0.02)
    raise AssertionError(f"no worker replaced {gone} in {BOUND}s")


async def drains_on_sigterm(served, expected) -> None:
    """A request a worker is handling when SIGTERM comes is answered; then all exit, Redis last.

    aiohttp drains requests whose body has arrived (bytes arriving after shutdown begins are dropped), so
    the request is made slow another way: Redis is paused (SIGSTOP) for less than one Redis call's
    timeout, so the turn waits on it, and the embedded server's supervision does not take it for dead."""
    redis_pid = children(served.process.pid, "redis-server")
    assert len(redis_pid) == 1
    (redis,) = redis_pid
    case = CASES[0]
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    assert (await exchange(reader, writer, case["turns"][0], "keep-alive")).startswith("HTTP/1.1 200")
    os.kill(int(redis), signal.SIGSTOP)                 # the connection is accepted: now hold its next turn
    try:
        reply = asyncio.ensure_future(exchange(reader, writer, case["turns"][0], "close"))
        await asyncio.sleep(0.1)
        served.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.15)
    finally:
        os.kill(int(redis), signal.SIGCONT)
    response = await asyncio.wait_for(reply, BOUND)
    writer.close()
    assert response.startswith("HTTP/1.1 200"), response
    assert json.loads(response.split("\r\n\r\n", 1)[1])["reply"] == expected[case["id"]][0]
    assert await asyncio.to_thread(served.process.wait, BOUND) == 0
    assert not Path(f"/proc/{redis}").exists(), "the embedded redis-server stopped"
    log = served.log.read_text()
    assert "Traceback" not in log, log[-3000:]


async def exchange(reader, writer, text: str, connection: str) -> str:
    """One POST /api/chat on a raw connection; the response as text."""
    body = json.dumps({"user_id": "draining", "text": text}, ensure_ascii=False).encode()
    writer.write(b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Connection: %s\r\nContent-Length: %d\r\n\r\n%s" % (connection.encode(), len(body), body))
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    length = int(next(line.split(":")[1] for line in head.split("\r\n") if line.lower().startswith("content-length")))
    return head + (await reader.readexactly(length)).decode()


def children(pid: int, name: str) -> set[str]:
    """Pids of `pid`'s live children whose program's name (comm) contains `name`."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                comm = Path(f"/proc/{child}/comm").read_text().strip()
                state = Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0]
            except FileNotFoundError:
                continue
            if name in comm and state != "Z":
                found.add(child)
    return found


def test_a_crash_loop_waits_longer_each_time_and_a_long_run_starts_the_wait_over():
    from bot.supervisor import FIRST_DELAY, MAX_DELAY, STABLE_AFTER, Backoff
    backoff = Backoff()
    waits = [backoff.after(0.1) for _ in range(12)]
    assert waits[0] == FIRST_DELAY and waits[1] == 2 * FIRST_DELAY and waits[-1] == MAX_DELAY
    assert waits == sorted(waits)
    assert backoff.after(STABLE_AFTER + 1) == FIRST_DELAY


def test_a_port_in_use_is_refused_once_with_a_clear_message(tmp_path):
    import socket
    import subprocess
    import sys
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", "2"],
                              cwd=ROOT, env={**os.environ, "DATA_DIR": str(tmp_path)}, capture_output=True,
                              text=True, timeout=60, check=False)
    assert done.returncode == 2 and "cannot listen on 127.0.0.1" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not list(tmp_path.glob("redis.sock"))   # nothing was started
