"""What every benchmark reports: percentiles of a list of seconds, and the process's resident memory."""
from __future__ import annotations

import statistics
from pathlib import Path


def percentile(seconds: list[float], q: float) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summary_ms(seconds: list[float]) -> dict:
    return {"n": len(seconds), "p50_ms": round(statistics.median(seconds) * 1000, 3) if seconds else 0.0,
            "p99_ms": round(percentile(seconds, 0.99) * 1000, 3)}


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory now, from /proc (Linux): what the process really holds, not what it asked for."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
