"""The knowledge through the staff API: grounded saves, hit test, golden questions, publish, rollback,
diffs and briefings, each on the real versions in a real Redis and each in the audit log."""
from __future__ import annotations

from bot.admin.roles import TABLE

from .admin_helpers import *  # noqa: F403

OLD = "平泉城乡公交采用阶梯票价、分段计费，基础票价2元，最高票价8元"
NEW = "平泉的城乡公交按阶梯票价、分段计费：基础票价2元，最高票价8元"
QUESTION = "平泉坐公交多少钱"


async def reworded(editor, text_from: str = OLD, text_to: str = NEW, status: int = 200) -> dict:
    topic = await editor.json("GET", "topics/bus-fare")
    answer = topic["answers"]["平泉"]
    assert text_from in answer["text"]
    topic["answers"]["平泉"] = {**answer, "text": answer["text"].replace(text_from, text_to)}
    return await editor.json("PUT", "topics/bus-fare", topic, status)


async def test_the_draft_topic_has_the_fields_of_the_yaml(signed_in):
    viewer = await signed_in("viewer")
    topic = await viewer.json("GET", "topics/bus-fare")
    assert set(topic) >= {"id", "title", "category", "examples", "keywords", "related", "answers"}
    assert "file" not in topic
    assert topic["answers"]["平泉"]["seed"] == "000_ff720f5e860dd746.txt"
    await viewer.json("GET", "topics/no-such-topic", status=404)


async def test_search_by_title_example_answer_text_and_city(signed_in):
    viewer = await signed_in("viewer")
    for q in ("城乡公交票价", "公交车怎么收费", "桲椤树镇", "平泉"):
        found = await viewer.json("GET", "topics?q=" + q)
        assert "bus-fare" in [t["id"] for t in found["topics"]], q
    everything = await viewer.json("GET", "topics")
    assert len(everything["topics"]) > 20
    assert (await viewer.json("GET", "topics?q=火星移民"))["topics"] == []


async def test_a_wording_change_is_saved_to_the_draft_and_audited(signed_in, staff):
    editor = await signed_in("editor", "ed")
    saved = await reworded(editor)
    assert NEW in saved["topic"]["answers"]["平泉"]["text"]
    [entry] = await staff.audit.entries(action="topic.save")
    assert entry["actor"] == "ed" and entry["role"] == "editor" and entry["object"] == "bus-fare"
    assert entry["result"] == "ok" and entry["address"] == "127.0.0.1"
    assert OLD in entry["before"]["answers"]["平泉"]["text"] and NEW in entry["after"]["answers"]["平泉"]["text"]
    changes = await editor.json("GET", "draft/changes")
    [change] = changes["changes"]
    assert change["topic"] == "bus-fare" and change["change"] == "changed"


async def test_a_changed_figure_is_refused_next_to_the_field_and_changes_nothing(signed_in, staff):
    editor = await signed_in("editor", "ed")
    refused = await reworded(editor, "最高票价8元", "最高票价9元", status=422)
    assert {"field": "answers.平泉.text", "message": "答案中的“9元”不在引用原文中"} in refused["errors"]
    assert "9元" not in (await editor.json("GET", "topics/bus-fare"))["answers"]["平泉"]["text"]
    assert (await editor.json("GET", "draft/changes"))["changes"] == []
    [entry] = await staff.audit.entries(action="topic.save")
    assert entry["result"] == "rejected" and "9元" in entry["after"]["topic"]["answers"]["平泉"]["text"]
    assert entry["after"]["errors"][0]["field"] == "answers.平泉.text"


async def test_a_quote_that_is_not_verbatim_is_refused(signed_in):
    editor = await signed_in("editor")
    topic = await editor.json("GET", "topics/bus-fare")
    topic["answers"]["平泉"]["quotes"][0] += "（改）"
    refused = await editor.json("PUT", "topics/bus-fare", topic, 422)
    assert any(e["field"].startswith("answers.平泉.quotes") and "不是简报原文" in e["message"]
               for e in refused["errors"])


async def test_hit_test_runs_the_draft_and_the_live_version(signed_in):
    editor = await signed_in("editor")
    await reworded(editor)
    draft = await editor.json("POST", "hit-test", {"text": QUESTION, "version": "draft"})
    live = await editor.json("POST", "hit-test", {"text": QUESTION, "version": "live"})
    assert NEW in draft["reply"] and OLD in live["reply"]
    for r in (draft, live):
        assert r["topic"] == "bus-fare" and r["city"] == "平泉" and r["score"] > 0
        assert r["matched_example"] and isinstance(r["runners_up"], list)
        assert all(m["topic"] != "bus-fare" and "score" in m for m in r["runners_up"])
    bad = await editor.json("POST", "hit-test", {"text": QUESTION, "version": "tomorrow"}, 422)
    assert bad["errors"][0]["field"] == "version"


async def test_golden_questions_stop_a_publish_until_confirmed_then_rollback_restores(signed_in, staff,
                                                                                      admin_client):
    editor = await signed_in("editor", "ed")
    publisher = await signed_in("publisher", "pub")
    await editor.json("POST", "golden", {"question": QUESTION, "topic": "bus-fare", "city": "平泉"}, 201)
    assert [g["question"] for g in (await editor.json("GET", "golden"))["golden"]] == [QUESTION]
    await reworded(editor)
    asked = await publisher.json("POST", "publish", {"note": "措辞调整"}, 409)
    [pin] = asked["golden"]
    assert pin["changes"] and not pin["fails"] and NEW in pin["draft"]["reply"]
    published = await publisher.json("POST", "publish", {"note": "措辞调整", "confirm": True})
    assert published["version"] == 2
    chat = await admin_client.post("/api/chat", json={"user_id": "u1", "text": QUESTION})
    assert NEW in (await chat.json())["reply"]
    versions = await publisher.json("GET", "versions")
    assert versions["live"] == 2 and [v["kind"] for v in versions["versions"]] == ["seed", "publish"]
    diff = await publisher.json("GET", "versions/1/diff/2")
    [field] = diff["changes"][0]["fields"]
    assert field["field"] == "answers.平泉.text" and ["insert", "的"] in field["ops"]
    back = await publisher.json("POST", "rollback", {"version": 1})
    assert back == {"version": 3, "restores": 1}
    chat = await admin_client.post("/api/chat", json={"user_id": "u2", "text": QUESTION})
    assert OLD in (await chat.json())["reply"]
    [pub] = await staff.audit.entries(action="publish")
    assert pub["actor"] == "pub" and pub["after"]["version"] == 2 and pub["after"]["golden_flagged"] == [QUESTION]
    [roll] = await staff.audit.entries(action="rollback")
    assert roll["after"] == {"version": 3, "restores": 1} and roll["before"] == {"live": 2}
    await editor.json("DELETE", "golden", {"question": QUESTION})
    assert [e["action"] for e in await staff.audit.entries(action="golden")] == ["golden.remove", "golden.add"]


async def test_publish_needs_a_note_and_rollback_a_real_version(signed_in):
    publisher = await signed_in("publisher")
    bad = await publisher.json("POST", "publish", {"note": " "}, 422)
    assert bad["errors"][0]["field"] == "note"
    await publisher.json("POST", "rollback", {"version": 99}, 404)
    await publisher.json("POST", "rollback", {"version": "1"}, 422)


async def test_create_and_retire_a_topic(signed_in, staff):
    editor = await signed_in("editor")
    topic = await editor.json("GET", "topics/bus-fare")
    new = {**topic, "id": "bus-fare-copy", "title": "公交车费用说明", "related": [],
           "examples": ["公交怎么买票", "公交车票价是多少钱呢", "坐城乡公交要几块钱"]}
    refused = await editor.json("POST", "topics", new, 422)          # too few examples
    assert refused["errors"][0]["field"] == "examples"
    new["examples"] = ["搭巴士去镇上要多少钱", "巴士票价一览", "乘巴士进城的花费", "巴士一趟收多少", "大巴车费标准"]
    created = await editor.json("POST", "topics", new, 201)
    assert created["topic"]["id"] == "bus-fare-copy"
    await editor.json("POST", "topics", new, 422)                    # the id is taken
    await editor.json("DELETE", "topics/bus-fare-copy")
    await editor.json("GET", "topics/bus-fare-copy", status=404)
    trail = [(e["action"], e["result"]) for e in await staff.audit.entries(action="topic")]
    assert trail == [("topic.retire", "ok"), ("topic.create", "rejected"), ("topic.create", "ok"),
                     ("topic.create", "rejected")]


async def test_the_quote_picker_gets_the_briefing_with_lost_figures_marked(signed_in):
    editor = await signed_in("editor")
    seeds = (await editor.json("GET", "seeds"))["seeds"]
    assert {s["city"] for s in seeds} == {"平泉", "定州", "驻马店", "宁德", "寿光"}
    lost = await editor.json("GET", "seeds/004_6309bc7b4e85687d.txt")
    gaps = [s for s in lost["sentences"] if s["gap"]]
    assert gaps and all(s["holes"] for s in gaps)
    assert "".join(s["text"] for s in lost["sentences"]).replace("\n", "") in lost["text"].replace("\n", "")
    await editor.json("GET", "seeds/nothing.txt", status=404)


async def test_overdue_and_release(signed_in):
    viewer = await signed_in("viewer")
    assert isinstance((await viewer.json("GET", "overdue"))["overdue"], list)
    assert (await viewer.json("GET", "release"))["release"] is None


async def test_no_route_edits_or_deletes_the_audit_log(signed_in, staff):
    assert not [k for k in TABLE if "audit" in k[1] and k[0] != "GET"]
    auditor = await signed_in("auditor", "aud")
    before = await staff.audit.redis.xlen(staff.audit.key)
    for method in ("DELETE", "PUT", "POST", "PATCH"):
        resp = await auditor.call(method, "audit", json={})
        assert resp.status in (403, 405)
    assert await staff.audit.redis.xlen(staff.audit.key) == before
    assert await staff.audit.redis.ttl(staff.audit.key) == -1
