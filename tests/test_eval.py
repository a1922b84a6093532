"""The question sets, graded in-process exactly as ../shared/eval/grade.py grades the running bot."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.dialogue.evaluation import category, judge, run_cases
from bot.settings import ROOT

from .grounding_assert import assert_grounded

DATA = Path(__file__).parent / "data"


def load(name: str) -> list[dict]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


# Measured (docs/understanding.md): dev 55/55, dev2 60/60, paraphrase 157/160, holdout2 123/128, holdout3
# 108/120. holdout3 was written blind from the briefings before issue 10's tuning and is never tuned on.
@pytest.mark.parametrize("name,floor", [("dev.yaml", 1.0), ("dev2.yaml", 1.0), ("paraphrase.yaml", 0.98),
                                        ("holdout2.yaml", 0.96), ("holdout3.yaml", 0.90)])
async def test_question_set_scores_above_the_floor(dialogue, name, floor):
    report = await run_cases(dialogue, load(name))
    good, total = report.score
    assert good / total >= floor, "\n".join(report.lines())
    # clarifications and refusals are promises, not averages: every one must hold
    for kind in ("clarify", "refuse"):
        passed, count = report.by_kind.get(kind, [0, 0])
        if name in ("dev.yaml", "dev2.yaml"):
            assert passed == count, "\n".join(report.lines())


async def test_every_reply_to_every_question_is_grounded(dialogue):
    import uuid

    from bot.models import Inbound
    sets = ("dev.yaml", "dev2.yaml", "paraphrase.yaml", "holdout2.yaml", "holdout3.yaml")
    for case in (case for name in sets for case in load(name)):
        user = uuid.uuid4().hex
        for turn in case["turns"]:
            assert_grounded(await dialogue.handle(Inbound("test", user, turn)))


def test_judge_follows_grade_py_semantics():
    answer = {"expect": "answer", "must": ["2元"], "city": "平泉"}
    assert judge(answer, "平泉基础票价2元")[0]
    assert not judge(answer, "平泉基础票价12元")[0]           # a figure must not follow another digit
    assert not judge(answer, "基础票价2元")[0]                 # the city must be named
    clarify = {"expect": "clarify", "options": ["平泉", "定州"], "forbid": ["49个"]}
    assert judge(clarify, "平泉还是定州？")[0] and not judge(clarify, "平泉49个，定州？")[0]
    refuse = {"expect": "refuse", "forbid": ["2元"], "unless": "平泉"}
    assert judge(refuse, "平泉的是2元")[0] and not judge(refuse, "是2元")[0]


@pytest.mark.parametrize("case_id,expected", [
    ("d2-long-pq-water", "d2-long"), ("d2-multi-fix-tcm", "d2-multi"), ("p-pq-bus-max-voice", "p-pq"),
    ("h-zmd-12", "h-zmd"), ("biz-loan-a", "biz-loan"), ("bus-a", "bus"), ("o-7", "o"), ("solo", "solo"),
])
def test_a_case_category_is_its_id_prefix(case_id, expected):
    assert category(case_id) == expected


def test_cli_eval_prints_scores_and_fails_below_min_score(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "bot", "eval", str(DATA / "dev.yaml"), "--min-score", "0.95"],
                        check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "score: " in ok.stdout and "answer: " in ok.stdout and "latency per turn" in ok.stdout
    assert "category clar: 4/4" in ok.stdout
    hard = tmp_path / "hard.yaml"
    hard.write_text(yaml.safe_dump([{"id": "x", "turns": ["平泉公交票价"], "expect": "answer",
                                     "must": ["999元"], "city": "平泉"}], allow_unicode=True), encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "bot", "eval", str(hard), "--min-score", "0.5"],
                         check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert bad.returncode == 1 and "FAIL x" in bad.stdout


async def test_out_of_scope_questions_are_not_answered_with_a_topic(dialogue):
    import uuid

    from bot.models import Inbound
    answered, leaked = [], []
    for case in load("out_of_scope.yaml"):
        reply = await dialogue.handle(Inbound("test", uuid.uuid4().hex, case["turns"][-1]))
        if not judge(case, reply.text)[0]:
            leaked.append((case["turns"][-1], reply.topic))
        if reply.kind not in ("fallback", "refuse", "smalltalk"):
            answered.append((case["turns"][-1], reply.topic))
    # Measured: 5 of 30 get a loosely related topic (labelled with its city and source), 1 of them with a
    # figure (驾照到期 -> 定州's loan 展期). A worse matcher fails here.
    assert len(answered) <= 5 and len(leaked) <= 1, (answered, leaked)
