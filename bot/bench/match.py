"""`citizen-bot bench match`: the matcher against brute force, at 1x and synthetic larger knowledge.

Each scale runs in a fresh process, so its build time and memory are its own. Questions are the
citizen questions of the development sets (the blind holdout is left out); a question is understood
first (untimed), then its readings are matched (timed), once each, with no cache warm from an earlier
pass. The baseline is rapidfuzz's extractOne with WRatio over every example of every topic, in the
same process, on a sample of the same questions."""
from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from bot.bench.measure import rss_mb, summary_ms
from bot.bench.synthetic import scaled
from bot.knowledge import load
from bot.understanding.brain import build_brain
from bot.understanding.text import normalize
from bot.understanding.understand import understand

QUESTION_SETS = ("dev.yaml", "dev2.yaml", "paraphrase.yaml", "holdout2.yaml")
BRUTE_SAMPLE = 40


def questions(data_dir: Path) -> list[str]:
    out = []
    for name in QUESTION_SETS:
        path = data_dir / name
        if path.exists():
            out += [case["turns"][-1] for case in yaml.safe_load(path.read_text(encoding="utf-8"))]
    return out


def one_scale(root: Path, data_dir: Path, times: int, brute: int = BRUTE_SAMPLE) -> dict:
    kn = scaled(load.load(root), times)
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    brain = build_brain(kn)
    build_s = time.perf_counter() - started
    gc.collect()
    asked = [understand(q, brain.gazetteer, brain.spelling) for q in questions(data_dir)]
    timings, cpu = [], []
    for u in asked:
        t0, c0 = time.perf_counter(), time.thread_time()
        brain.matcher.rank_readings(u.readings, u.city)
        timings.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)     # what the question cost, whatever else the machine ran
    examples = [normalize(e) for t in kn.topics for e in (t.title, *t.examples)]
    step = max(1, len(asked) // brute)
    brute_t, brute_cpu = [], []
    for u in asked[::step][:brute]:
        t0, c0 = time.perf_counter(), time.thread_time()
        process.extractOne(u.text, examples, scorer=fuzz.WRatio)
        brute_t.append(time.perf_counter() - t0)
        brute_cpu.append(time.thread_time() - c0)
    matcher, baseline = summary_ms(timings), summary_ms(brute_t)
    matcher_cpu, baseline_cpu = summary_ms(cpu), summary_ms(brute_cpu)
    return {"times": times, "topics": len(kn.topics), "examples": len(examples),
            "build_s": round(build_s, 2), "rss_mb": round(rss_mb(), 1), "rss_brain_mb": round(rss_mb() - before, 1),
            "matcher": matcher, "brute": baseline, "matcher_cpu": matcher_cpu, "brute_cpu": baseline_cpu,
            "ratio_p50": round(baseline["p50_ms"] / max(matcher["p50_ms"], 1e-6), 1),
            "ratio_cpu_p50": round(baseline_cpu["p50_ms"] / max(matcher_cpu["p50_ms"], 1e-6), 1)}


def run(root: Path, data_dir: Path, scales: list[int]) -> list[dict]:
    rows = []
    for times in scales:
        out = subprocess.run([sys.executable, "-m", "bot.bench.match", str(root), str(data_dir), str(times)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(table_row(rows[-1]), flush=True)
    return rows


HEADER = ("| knowledge | topics | matcher p50 / p99 (wall) | CPU p50 / p99 | brute force p50 (wall / CPU) | "
          "ratio p50 (wall / CPU) | RSS after build | build |\n|---|---|---|---|---|---|---|---|")


def table_row(r: dict) -> str:
    m, b, mc, bc = r["matcher"], r["brute"], r["matcher_cpu"], r["brute_cpu"]
    return (f"| {r['times']}× | {r['topics']} | {m['p50_ms']} / {m['p99_ms']} ms | {mc['p50_ms']} / {mc['p99_ms']} ms"
            f" | {b['p50_ms']} / {bc['p50_ms']} ms | {r['ratio_p50']}× / {r['ratio_cpu_p50']}× | {r['rss_mb']} MB"
            f" | {r['build_s']} s |")


if __name__ == "__main__":
    print(json.dumps(one_scale(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])), ensure_ascii=False))
