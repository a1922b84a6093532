"""Knowledge versions in a real Redis: seed, draft saves with field errors, publish, rollback, diff,
releases, golden questions, review dates; no staff key ever expires."""
import copy
import shutil

import pytest

from bot.knowledge.dump import dump
from bot.knowledge.load import load
from bot.knowledge.versions import PublishRejected, Versions
from bot.settings import ROOT

PREFIX = "t"
REWORDED = ("平泉城乡公交按阶梯票价分段收费，基础票价2元，最高票价8元，出行费用同比降低了50%。"
            "以最远的桲椤树镇为例，到市区60公里，单次乘车费用由原来的16元/人降至8元/人。")


@pytest.fixture
async def versions(redis):
    v = Versions(redis, PREFIX, ROOT)
    await v.ensure_seeded()
    return v


async def bus_fare(versions) -> dict:
    return copy.deepcopy(await versions.draft_topic("bus-fare"))


async def test_version_1_is_seeded_once_from_intents(redis, versions):
    assert await versions.ensure_seeded() == 1
    assert await Versions(redis, PREFIX, ROOT).ensure_seeded() == 1
    [info] = await versions.versions()
    assert (info.number, info.kind, info.counts["topics"]) == (1, "seed", len(load(ROOT).topics))
    assert (await versions.knowledge(1)).by_id["bus-fare"] == load(ROOT).by_id["bus-fare"]


async def test_a_reworded_answer_is_saved_to_the_draft_not_live(versions):
    topic = await bus_fare(versions)
    topic["answers"]["平泉"]["text"] = REWORDED
    assert await versions.save_topic(topic, "editor") == []
    assert (await versions.draft_topic("bus-fare"))["answers"]["平泉"]["text"] == REWORDED
    assert (await versions.knowledge(1)).by_id["bus-fare"].answers["平泉"].text != REWORDED
    [change] = await versions.draft_changes()
    assert change.topic == "bus-fare" and change.fields[0].field == "answers.平泉.text"


@pytest.mark.parametrize("change, field, message", [
    (lambda t: t["answers"]["平泉"].update(text=REWORDED.replace("基础票价2元", "基础票价3元")),
     "answers.平泉.text", "答案中的“3元”不在引用原文中"),
    (lambda t: t["answers"]["平泉"]["quotes"].__setitem__(0, "基础票价2元，最高票价8元"),
     "answers.平泉.quotes", "引用不是简报原文：“基础票价2元，最高票价8元”"),
    (lambda t: t.update(examples=t["examples"][:2]), "examples", "相似问法至少要5个，现在只有2个"),
    (lambda t: t.update(examples=t["examples"] + ["平泉坐公交多少钱"]), "examples",
     "相似问法“平泉坐公交多少钱”里有城市名；问法不写城市，城市由系统识别"),
    (lambda t: t.update(title="公交2元"), "title", "标题不能含数字（2）：标题会出现在不注明来源的回复里"),
    (lambda t: t["answers"]["平泉"].update(dept="平泉市财政局"), "answers.平泉.dept", "部门“平泉市财政局”在简报中没有出现"),
    (lambda t: t.update(related=["no-such-topic"]), "related", "相关话题“no-such-topic”不存在"),
    (lambda t: t.update(examples=t["examples"] + ["公交车有多少辆"]), "examples",
     "相似问法“公交车有多少辆”已用于话题：bus-fleet-size"),
])
async def test_a_save_that_fails_a_check_is_refused_next_to_the_field_and_changes_nothing(
        versions, redis, change, field, message):
    topic = await bus_fare(versions)
    change(topic)
    errors = await versions.save_topic(topic, "editor")
    assert {"field": field, "message": message} in [e.to_json() for e in errors]
    assert await redis.exists(f"{PREFIX}:kb:draft") == 0          # nothing changed: the draft is still live
    assert await versions.draft_topic("bus-fare") == await bus_fare(versions)


async def test_a_quote_spanning_a_lost_figure_is_refused(versions):
    shouguang = next(t for t in await versions.draft_topics() if any(
        a.get("figure_missing") for a in t["answers"].values()))
    city = next(c for c, a in shouguang["answers"].items() if a.get("figure_missing"))
    topic = copy.deepcopy(shouguang)
    topic["answers"][city]["text"] = topic["answers"][city]["text"].replace("未给出具体数字", "很多")
    errors = await versions.save_topic(topic, "editor")
    assert any(e.field == f"answers.{city}.text" and "未给出具体数字" in e.message for e in errors)


async def test_create_retire_publish_and_rollback(versions):
    new = await bus_fare(versions)
    new.update(id="bus-fare-2", examples=[f"票价问法{i}" for i in range(5)], related=["bus-fare"])
    new.pop("file")
    assert await versions.save_topic(new, "editor", create=True) == []
    assert (await versions.draft_topic("bus-fare-2"))["file"] == "transport.yaml"
    assert [e.field for e in await versions.save_topic(new, "editor", create=True)] == ["id"]
    assert await versions.retire_topic("bus-savings", "editor") is True
    assert await versions.retire_topic("bus-savings", "editor") is False
    assert all("bus-savings" not in t.get("related", []) for t in await versions.draft_topics())

    assert await versions.publish("新增话题", "publisher") == 2
    live = await versions.knowledge(2)
    assert live.topic("bus-fare-2") and not live.topic("bus-savings")
    assert await versions.draft_changes() == []                  # the draft is the live version again

    assert await versions.rollback(1, "publisher") == 3
    assert (await versions.knowledge(3)).topic("bus-savings")
    kinds = [(i.number, i.kind, i.based_on) for i in await versions.versions()]
    assert kinds == [(1, "seed", 0), (2, "publish", 1), (3, "rollback", 1)]


async def test_publish_refuses_a_draft_that_fails_check(versions, redis):
    await redis.set(f"{PREFIX}:kb:draft", (await redis.get(f"{PREFIX}:kb:version:1")).replace(
        "基础票价2元，最高票价8元".encode(), "基础票价3元，最高票价8元".encode()))
    with pytest.raises(PublishRejected) as refused:
        await versions.publish("坏的", "publisher")
    assert "答案中的“3元”不在引用原文中" in [e.message for e in refused.value.errors]
    assert await versions.live_number() == 1


async def test_versions_are_immutable_and_diffs_are_per_character(versions, redis):
    before = await redis.get(f"{PREFIX}:kb:version:1")
    topic = await bus_fare(versions)
    topic["answers"]["平泉"]["text"] = REWORDED
    await versions.save_topic(topic, "editor")
    await versions.publish("措辞", "publisher")
    assert await redis.get(f"{PREFIX}:kb:version:1") == before
    [change] = await versions.diff(1, 2)
    text = change.to_json()["fields"][0]
    assert change.change == "changed" and text["field"] == "answers.平泉.text"
    assert ["delete", "采用"] in text["ops"] and ["insert", "按"] in text["ops"]
    assert "".join(t for op, t in text["ops"] if op != "insert") == text["before"]
    assert "".join(t for op, t in text["ops"] if op != "delete") == text["after"]


async def test_a_new_release_is_proposed_and_merged_into_the_draft_without_losing_edits(redis, tmp_path):
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    shutil.copytree(ROOT / "intents", tmp_path / "intents")
    versions = Versions(redis, PREFIX, tmp_path)
    await versions.ensure_seeded()
    assert await versions.release_proposal() is None
    edited = await bus_fare(versions)
    edited["answers"]["平泉"]["text"] = REWORDED
    await versions.save_topic(edited, "editor")

    kn = load(tmp_path)                                     # the release changes two topics
    release = {t.id: t for t in kn.topics}
    from dataclasses import replace
    release["bus-fare"] = replace(release["bus-fare"], title="公交票价（新）")
    release["bus-savings"] = replace(release["bus-savings"], title="坐公交省钱")
    dump(replace(kn, topics=tuple(release.values())), tmp_path / "intents")
    assert await versions.ensure_seeded() == 1 and await versions.live_number() == 1   # live untouched

    proposal = await versions.release_proposal()
    assert sorted(c["topic"] for c in proposal["changes"]) == ["bus-fare", "bus-savings"]
    assert await versions.adopt_release("publisher") == ["bus-fare"]     # both changed it: staff's edit kept
    draft = {t["id"]: t for t in await versions.draft_topics()}
    assert draft["bus-fare"]["answers"]["平泉"]["text"] == REWORDED
    assert draft["bus-savings"]["title"] == "坐公交省钱"
    await versions.publish("新版本", "publisher")
    assert await versions.release_proposal() is None


async def test_golden_questions_report_changes_and_failures(versions, brain):
    from bot.understanding.brain import build_brain
    await versions.pin("平泉坐公交多少钱", "bus-fare", "平泉", "editor")
    await versions.pin("定州老旧小区改造", "old-compound-renovation", "定州", "editor")
    topic = await bus_fare(versions)
    topic["answers"]["平泉"]["text"] = REWORDED
    await versions.save_topic(topic, "editor")
    await versions.retire_topic("old-compound-renovation", "editor")
    report = {r["question"]: r for r in await versions.golden_report(brain, build_brain(await versions.draft_knowledge()))}
    bus = report["平泉坐公交多少钱"]
    assert bus["changes"] and not bus["fails"] and "分段收费" in bus["draft"]["reply"]
    assert report["定州老旧小区改造"]["fails"] and not report["定州老旧小区改造"]["fails_live"]
    assert await versions.unpin("定州老旧小区改造") is True
    assert [p["question"] for p in await versions.golden()] == ["平泉坐公交多少钱"]


async def test_answers_past_their_review_date_are_listed(versions):
    topic = await bus_fare(versions)
    topic["answers"]["平泉"].update(review_by="2026-01-31", as_of="2025-10-01")
    assert await versions.save_topic(topic, "editor") == []
    await versions.publish("复查日期", "publisher")
    assert await versions.overdue("2026-01-31") == []
    assert await versions.overdue("2026-02-01") == [
        {"topic": "bus-fare", "title": "城乡公交票价", "city": "平泉", "review_by": "2026-01-31"}]
    bad = await bus_fare(versions)
    bad["answers"]["平泉"]["review_by"] = "明年"
    assert [e.field for e in await versions.save_topic(bad, "editor")] == ["answers.平泉.review_by"]


async def test_no_staff_key_ever_expires(versions, redis):
    topic = await bus_fare(versions)
    await versions.save_topic(topic, "editor")
    await versions.pin("平泉坐公交多少钱", "bus-fare", "平泉", "editor")
    await versions.publish("x", "p")
    await versions.save_topic(topic, "editor")
    keys = [k async for k in redis.scan_iter(f"{PREFIX}:kb:*")]
    assert len(keys) >= 7
    assert {k: await redis.ttl(k) for k in keys} == {k: -1 for k in keys}
