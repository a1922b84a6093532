"""`citizen-bot kb` on the embedded Redis: list, publish, roll back, diff, and golden questions."""
from .test_cli import run


def test_kb_versions_publish_rollback_and_diff(tmp_path):
    assert "1  seed" in run("kb", "versions", data_dir=tmp_path).stdout
    published = run("kb", "--actor", "alice", "publish", "--note", "无改动", data_dir=tmp_path)
    assert published.returncode == 0 and "version 2 is live" in published.stdout
    assert run("kb", "rollback", "1", data_dir=tmp_path).returncode == 0
    listing = run("kb", "versions", data_dir=tmp_path).stdout
    assert "alice" in listing and "3  rollback" in listing and "(live)" in listing.splitlines()[-1]
    assert run("kb", "diff", "1", "3", data_dir=tmp_path).stdout == ""


def test_kb_test_fails_when_a_golden_question_would_miss(tmp_path):
    assert run("kb", "pin", "平泉坐公交多少钱", "bus-fare", "平泉", data_dir=tmp_path).returncode == 0
    ok = run("kb", "test", data_dir=tmp_path)
    assert ok.returncode == 0 and "ok" in ok.stdout
    assert run("kb", "pin", "平泉坐公交多少钱", "bus-fleet-size", "平泉", data_dir=tmp_path).returncode == 0
    failing = run("kb", "test", data_dir=tmp_path)
    assert failing.returncode == 1 and "FAIL" in failing.stdout
