"""The offline dependency audit checks every installed package and catches a known-vulnerable pin."""
from __future__ import annotations

import subprocess
import sys

from packaging.version import Version

from bot.settings import ROOT

AUDIT = ROOT / "scripts" / "audit.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(AUDIT), *args], capture_output=True, text=True, check=False)


def test_the_audit_covers_every_installed_package_and_passes():
    result = run()
    assert result.returncode == 0, result.stdout
    counted = result.stdout.split("audited ")[1].split(" pinned")[0]
    installed = result.stdout.split("(")[1].split(" installed")[0]
    assert int(counted) >= int(installed) > 30             # not "0 of 40"


def test_the_audit_fails_on_a_vulnerable_or_unpinned_package(tmp_path):
    constraints = (ROOT / "constraints.txt").read_text(encoding="utf-8").replace("aiohttp==", "aiohttp==3.9.0 #")
    constraints = "\n".join(line for line in constraints.splitlines() if not line.startswith("PyYAML"))
    (tmp_path / "constraints.txt").write_text(constraints, encoding="utf-8")
    result = run("--constraints", str(tmp_path / "constraints.txt"))
    assert result.returncode == 1
    assert "CVE-2024-52304" in result.stdout and "pyyaml" in result.stdout.lower()


def test_redislites_bundled_server_would_be_flagged():
    sys.path.insert(0, str(ROOT / "scripts"))
    import json

    import audit
    advisories = json.loads((ROOT / "scripts" / "advisories.json").read_text(encoding="utf-8"))["redis-server"]
    assert len(audit.redis_findings(Version("6.2.14"), advisories)) == 3
    assert audit.redis_findings(Version("7.0.15"), advisories) == []
