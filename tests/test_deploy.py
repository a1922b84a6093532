"""The deploy files are consistent with the repository, and Redis accepts the production config."""
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from bot.settings import ROOT
from bot.supervisor import DRAIN_TIMEOUT

from .redis_server import free_port, redis_binary

DEPLOY = ROOT / "deploy"


def compose_command() -> list[str]:
    """`docker compose` (the plugin) or `docker-compose` (Debian's, which `make test` installs)."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True,
                                                 check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    missing = "neither `docker compose` nor `docker-compose` is installed"
    if os.environ.get("CI"):
        pytest.fail(f"{missing}: CI must validate the compose file (make test installs docker-compose)",
                    pytrace=False)
    pytest.skip(missing)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    """The compose file as `docker compose config` renders it (variables, defaults and paths resolved),
    in a copy of deploy/ with bot.env made from the example (the real one is never in the repository)."""
    command = compose_command()
    copy = tmp_path_factory.mktemp("compose") / "deploy"
    shutil.copytree(DEPLOY, copy)
    shutil.copy(DEPLOY / "bot.env.example", copy / "bot.env")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "COMPOSE_"))}
    done = subprocess.run([*command, "-f", str(copy / "compose.yaml"), "config"], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_runs_bot_replicas_with_workers_on_one_redis(rendered):
    bot = rendered["services"]["bot"]
    assert int(bot["deploy"]["replicas"]) >= 2
    assert "serve" in bot["command"] and int(bot["command"][bot["command"].index("--workers") + 1]) >= 2
    assert bot["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert re.search(r"/readyz\b", " ".join(bot["healthcheck"]["test"]))
    assert _seconds(bot["stop_grace_period"]) > DRAIN_TIMEOUT        # docker stop lets the workers drain


def test_compose_redis_keeps_an_append_only_file_and_is_health_checked(rendered):
    redis = rendered["services"]["redis"]
    assert "ping" in redis["healthcheck"]["test"]
    config = redis["command"][1]
    mounted = next(v.split(":")[0] for v in redis["volumes"] if v.split(":")[1] == config)
    settings = Path(mounted).read_text(encoding="utf-8").splitlines()
    assert "appendonly yes" in settings and "appendfsync everysec" in settings
    assert any(v.split(":")[1] == "/data" for v in redis["volumes"])      # the AOF lives on a volume


def test_nginx_waits_for_a_ready_bot_and_balances_over_the_replicas(rendered):
    assert rendered["services"]["nginx"]["depends_on"]["bot"]["condition"] == "service_healthy"
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert re.findall(r"server (\S+):8080", conf) == ["bot"]     # compose's DNS name: every replica


def test_nginx_fits_wechats_five_seconds_and_limits_bodies():
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert "listen 443 ssl;" in conf and "ssl_certificate " in conf and "TLSv1.3" in conf
    assert "client_max_body_size 64k;" in conf
    wechat = re.search(r"location = /wechat \{(.*?)\}", conf, re.DOTALL).group(1)
    assert _seconds(re.search(r"proxy_read_timeout (\S+);", wechat).group(1)) <= 5
    assert _seconds(re.search(r"proxy_next_upstream_timeout (\S+);", wechat).group(1)) < 5
    assert "proxy_hide_header X-Worker;" in conf


def test_systemd_unit_serves_every_core_and_drains_on_stop():
    unit = (DEPLOY / "citizen-bot@.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.MULTILINE).group(1).split()
    assert exec_start[1:3] == ["serve", "--host"] and "--workers" in exec_start
    assert "KillMode=mixed" in unit                      # SIGTERM to the supervisor, which drains the workers
    assert _seconds(re.search(r"^TimeoutStopSec=(\S+)$", unit, re.MULTILINE).group(1)) > DRAIN_TIMEOUT


def _seconds(value) -> float:
    """"70s", "4500ms", "1m30s" or a bare number of seconds (compose renders some as numbers)."""
    if isinstance(value, (int, float)):
        return float(value)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|m|s|h)?", value)
    scale = {"ms": 0.001, "s": 1, "": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[unit] for n, unit in parts)


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
