"""Grade a question set in-process, with the same semantics as the shared eval/grade.py."""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field

from bot.models import Inbound


def _norm(s: str) -> str:
    s = s.replace(" ", "").replace("\u3000", "").replace(",", "")
    return s.translate({ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９％．"})


def _has(text: str, needle: str) -> bool:
    needle = _norm(needle)
    pattern = re.escape(needle)
    if needle[:1].isdigit():
        pattern = r"(?<![\d.])" + pattern
    return re.search(pattern, text) is not None


def judge(case: dict, reply: str) -> tuple[bool, list[str]]:
    """(passed, reasons) for the last reply of a case: answer / clarify / refuse."""
    r, kind = _norm(reply), case["expect"]
    if kind == "answer":
        miss = [m for m in case["must"] if not _has(r, m)]
        if case.get("city") and case["city"] not in r:
            miss.append(f"city:{case['city']}")
        return not miss, miss
    if kind == "clarify":
        named = [c for c in case["options"] if c in r]
        bad = [f for f in case.get("forbid", []) if _has(r, f)]
        return len(named) >= 2 and not bad, ([f"named only {named}"] if len(named) < 2 else []) + bad
    if kind == "refuse":
        if case.get("unless") and case["unless"] in r:
            return True, []
        bad = [f for f in case.get("forbid", []) if _has(r, f)]
        return not bad, bad
    raise ValueError(f"unknown expect: {kind}")


def category(case_id: str) -> str:
    """A case's category: its id without the last word, at most the first two words.

    d2-long-pq-water -> d2-long, p-multi-sg-set -> p-multi, h-pq-1 -> h-pq, biz-loan-a -> biz-loan,
    o-1 -> o. Every set in tests/data names its cases set-style-detail(-n), or topic-serial."""
    return "-".join(case_id.split("-")[:-1][:2]) or case_id


@dataclass
class Report:
    by_kind: dict[str, list[int]] = field(default_factory=dict)
    by_category: dict[str, list[int]] = field(default_factory=dict)
    failures: list[tuple[str, list[str], list[str], str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    @property
    def score(self) -> tuple[int, int]:
        return sum(v[0] for v in self.by_kind.values()), sum(v[1] for v in self.by_kind.values())

    def lines(self) -> list[str]:
        out = [f"FAIL {cid} {turns} {why} -> {reply[:160]}".replace("\n", " ")
               for cid, turns, why, reply in self.failures]
        out += [f"{k}: {g}/{n}" for k, (g, n) in self.by_kind.items()]
        out += [f"category {c}: {g}/{n}" for c, (g, n) in self.by_category.items()]
        lat = sorted(self.latencies)
        if lat:
            out.append(f"latency per turn: p50 {lat[len(lat) // 2] * 1000:.1f} ms, "
                       f"p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms")
        good, total = self.score
        out.append(f"score: {good}/{total} ({100 * good / max(total, 1):.1f}%)")
        return out


async def run_cases(dialogue, cases: list[dict]) -> Report:
    """Each case is a fresh session; only its last reply is judged."""
    report = Report()
    for case in cases:
        user = "eval-" + uuid.uuid4().hex[:12]
        reply = ""
        for turn in case["turns"]:
            t0 = time.perf_counter()
            reply = (await dialogue.handle(Inbound("eval", user, turn))).text
            report.latencies.append(time.perf_counter() - t0)
        ok, why = judge(case, reply)
        for tally in (report.by_kind.setdefault(case["expect"], [0, 0]),
                      report.by_category.setdefault(category(case["id"]), [0, 0])):
            tally[0] += ok
            tally[1] += 1
        if not ok:
            report.failures.append((case["id"], case["turns"], why, reply))
    return report
