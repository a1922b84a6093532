"""Built Brains on disk: a second start with the same knowledge reads the Brain instead of building it,
answers the same, and a damaged or foreign file is ignored and replaced."""
from __future__ import annotations

import pickle
import stat

import pytest

from bot.knowledge.dump import body_of, brain_key
from bot.understanding.holder import BrainCache
from bot.understanding.stored import StoredBrains
from bot.understanding.text import normalize

QUESTIONS = ["平泉公交基础票价是多少", "社宝卡怎么补办", "低保每人每月多少钱", "驻马店电梯困人怎么办", "护照怎么办理"]


def answers(brain) -> list:
    """What the Brain says to a few questions: topics ranked, repairs, places, the long tail."""
    out = []
    for q in map(normalize, QUESTIONS):
        place = brain.gazetteer.find(q)
        out.append((brain.matcher.rank(place.stripped, place.city), brain.spelling.repair(q), place,
                    brain.passages.best(place.stripped, place.city or "平泉"), brain.tokenizer.words(q)))
    return out


@pytest.fixture
def key(brain) -> str:
    return brain_key(body_of(brain.knowledge), brain.knowledge.seeds)


async def _never():
    raise AssertionError("built, though a stored Brain was there")


async def test_a_second_start_reads_the_stored_brain_and_answers_the_same(brain, key, tmp_path):
    first = StoredBrains(tmp_path)
    first.write(key, brain)
    (path,) = tmp_path.glob("brain-*.pickle")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and not list(tmp_path.glob(".brain-*"))

    second = StoredBrains(tmp_path)                # a restarted or added worker
    again = await BrainCache(stored=second).get(key, _never, keep=True)
    assert second.reads == 1 and again is not brain
    assert answers(again) == answers(brain)
    assert again.knowledge == brain.knowledge and again.knowledge.by_id["bus-fare"] is again.knowledge.topics[
        [t.id for t in again.knowledge.topics].index("bus-fare")]


async def test_a_built_brain_is_stored_for_the_next_start(brain, key, tmp_path):
    stored = StoredBrains(tmp_path)
    cache = BrainCache(stored=stored)

    async def knowledge():
        return brain.knowledge
    built = await cache.get(key, knowledge, keep=True)
    for task in list(cache._storing):
        await task
    assert stored.writes == 1 and stored.reads == 0
    assert answers(StoredBrains(tmp_path).read(key)) == answers(built)


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b[:40] + b"x" + b[41:], lambda b: b"",
                                    lambda b: b[:32] + pickle.dumps("not a brain")])
async def test_a_damaged_file_is_ignored_removed_and_rebuilt(brain, key, tmp_path, damage):
    StoredBrains(tmp_path).write(key, brain)
    path = StoredBrains(tmp_path).path(key)
    path.write_bytes(damage(path.read_bytes()))
    stored = StoredBrains(tmp_path)
    assert stored.read(key) is None and not path.exists()

    async def knowledge():
        return brain.knowledge
    cache = BrainCache(stored=stored)
    rebuilt = await cache.get(key, knowledge, keep=True)
    for task in list(cache._storing):
        await task
    assert stored.writes == 1 and answers(rebuilt) == answers(brain)
    assert StoredBrains(tmp_path).read(key) is not None


def test_another_code_version_never_reads_the_file(brain, key, tmp_path, monkeypatch):
    StoredBrains(tmp_path).write(key, brain)
    monkeypatch.setattr("bot.understanding.stored.FORMAT", 999)
    assert StoredBrains(tmp_path).read(key) is None


def test_only_the_newest_files_are_kept(brain, tmp_path, monkeypatch):
    monkeypatch.setattr("bot.understanding.stored.KEEP", 2)
    stored = StoredBrains(tmp_path)
    for key in ("a" * 16, "b" * 16, "c" * 16):
        stored.write(key, brain)
    assert len(list(tmp_path.glob("brain-*.pickle"))) == 2 and stored.read("a" * 16) is None


def test_a_draft_brain_is_not_stored(brain, key, tmp_path):
    import asyncio
    stored = StoredBrains(tmp_path)

    async def knowledge():
        return brain.knowledge
    asyncio.run(BrainCache(stored=stored).get(key, knowledge))
    assert stored.writes == 0 and not list(tmp_path.iterdir())
