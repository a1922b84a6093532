"""The console script on the embedded default: a real redis-server it starts itself, no set-up."""
import json
import subprocess
import sys

from bot.settings import ROOT


def run(*args, data_dir, env_extra=None, timeout=120):
    env = {"DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "bot", *args], check=False, capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def test_ask_answers_on_the_embedded_redis(tmp_path):
    result = run("ask", "平泉坐公交车要多少钱", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2元" in result.stdout and "8元" in result.stdout and "来源：平泉" in result.stdout
    assert (tmp_path / "redis.rdb").exists() or (tmp_path / "redis.log").exists()


def test_ask_json_and_a_kept_session(tmp_path):
    first = run("ask", "老旧小区改造进展怎么样", "--user", "alice", "--json", data_dir=tmp_path)
    assert json.loads(first.stdout)["suggestions"] == ["平泉", "定州", "驻马店"]
    second = json.loads(run("ask", "定州", "--user", "alice", "--json", data_dir=tmp_path).stdout)
    assert second["city"] == "定州" and "100个" in second["reply"]     # the session survived the process


def test_chat_is_interactive(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bot", "chat"], input="我是寿光的\n大病保险起付线多少\nexit\n",
                            check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 0 and "1.8万元" in result.stdout


def test_bad_settings_stop_with_a_clear_message(tmp_path):
    result = run("ask", "你好", data_dir=tmp_path, env_extra={"SESSION_TTL": "soon"})
    assert result.returncode == 2 and "SESSION_TTL must be a whole number" in result.stderr
