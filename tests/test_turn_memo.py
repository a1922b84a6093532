"""Replies to repeated questions are remembered per Brain: the same message in the same session state
is worked out once, a new Brain forgets everything, and the memo stays within its size."""
from dataclasses import replace

from bot.app import make_dialogue
from bot.dialogue.memo import TurnMemo
from bot.models import Inbound
from bot.observability import metrics
from bot.settings import Settings
from bot.understanding.brain import build_brain


def hits() -> float:
    return metrics.TURN_MEMO.labels("hit")._value.get()


async def test_a_repeated_question_is_answered_from_the_memo(settings, redis, brain):
    dialogue, _ = make_dialogue(settings, redis, brain)
    before = hits()
    first = await dialogue.handle(Inbound("web", "memo-a", "平泉公交基础票价是多少"))
    again = await dialogue.handle(Inbound("web", "memo-b", "平泉公交基础票价是多少"))
    assert hits() == before + 1
    assert again == first and "2元" in again.text


async def test_the_session_is_part_of_what_is_remembered(settings, redis, brain):
    dialogue, _ = make_dialogue(settings, redis, brain)
    asked = await dialogue.handle(Inbound("web", "memo-c", "老旧小区改造进展怎么样"))
    followed = await dialogue.handle(Inbound("web", "memo-c", "定州"))
    cold = await dialogue.handle(Inbound("web", "memo-d", "定州"))        # the same word, no pending topic
    assert asked.kind == "clarify" and "100个" in followed.text
    assert cold.text != followed.text


async def test_it_can_be_turned_off(settings, redis, brain):
    dialogue, _ = make_dialogue(replace(settings, turn_memo=0), redis, brain)
    before = hits()
    for user in ("memo-e", "memo-f"):
        await dialogue.handle(Inbound("web", user, "平泉公交基础票价是多少"))
    assert hits() == before
    assert Settings.from_env({"TURN_MEMO": "0"}).turn_memo == 0


def test_a_new_brain_forgets_and_the_size_is_bounded(brain):
    memo, runs = TurnMemo(size=2), []

    def run(value):
        return lambda: runs.append(value) or value
    assert memo.get_or_run(brain, "q1", run("a")) == "a"
    assert memo.get_or_run(brain, "q1", run("b")) == "a"            # remembered
    other = build_brain(brain.knowledge, previous=brain)              # what a publish installs
    assert memo.get_or_run(other, "q1", run("c")) == "c"            # a new Brain: worked out again
    memo.get_or_run(other, "q2", run("d"))
    memo.get_or_run(other, "q3", run("e"))                           # q1 is the least recently used
    assert memo.get_or_run(other, "q1", run("f")) == "f"
    assert runs == ["a", "c", "d", "e", "f"]
