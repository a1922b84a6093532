"""The deploy files are consistent with the repository, and Redis accepts the production config."""
import re
import subprocess
import time
from pathlib import Path

import yaml

from bot.settings import ROOT

from .redis_server import free_port, redis_binary

DEPLOY = ROOT / "deploy"


def test_compose_runs_two_bots_on_one_redis_behind_nginx():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"redis", "bot-a", "bot-b", "nginx"} <= set(services)
    assert services["bot-a"]["environment"]["REDIS_URL"] == services["bot-b"]["environment"]["REDIS_URL"]
    upstreams = re.findall(r"server (bot-\w):8080", (DEPLOY / "nginx.conf").read_text(encoding="utf-8"))
    assert sorted(upstreams) == ["bot-a", "bot-b"]


def test_dockerfile_copies_what_exists():
    for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            for path in line.split()[1:-1]:
                assert (ROOT / path).exists(), path


def test_redis_accepts_the_production_config(tmp_path):
    conf = (DEPLOY / "redis.conf").read_text(encoding="utf-8")
    port = free_port()
    conf = conf.replace("dir /data", f"dir {tmp_path}").replace("port 6379", f"port {port}")
    conf = conf.replace("bind 0.0.0.0", "bind 127.0.0.1")     # tests stay on loopback
    (tmp_path / "redis.conf").write_text(conf, encoding="utf-8")
    proc = subprocess.Popen([redis_binary(), str(tmp_path / "redis.conf")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            ping = subprocess.run([str(Path(redis_binary()).with_name("redis-cli")), "-p", str(port), "ping"],
                                  check=False, capture_output=True, text=True)
            if ping.stdout.strip() == "PONG" or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stdout.read().decode()
        assert ping.stdout.strip() == "PONG"
    finally:
        proc.terminate()
        proc.wait(10)


def test_nginx_access_log_never_records_query_strings():
    """WeChat's signature, msg_signature, nonce and echostr travel in the query: a log of them is a replay kit."""
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    formats = dict(re.findall(r"log_format\s+(\w+)\s+((?:'[^']*'\s*)+);", conf))
    assert formats, "a custom log_format is defined"
    for body in formats.values():
        for leaky in ("$request ", "$request\"", "$request_uri", "$args", "$query_string", "$arg_"):
            assert leaky not in body, leaky
    logs = re.findall(r"access_log\s+(\S+)(?:\s+(\w+))?;", conf)
    assert logs and all(fmt in formats for _, fmt in logs), logs
    assert conf.count("server {") == len(logs)          # every server block logs with it
