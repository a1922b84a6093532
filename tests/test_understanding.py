"""The pure steps of understanding a message: focus, corrections, sibling topics, several questions."""
from dataclasses import replace
from types import MappingProxyType

import pytest

from bot.dialogue.turn import Dialogue
from bot.knowledge.schema import Knowledge
from bot.state.store import Session
from bot.understanding.brain import build_brain
from bot.understanding.focus import asks, find_focus, split_questions
from bot.understanding.siblings import names_the_same, sibling, title_overlap
from bot.understanding.understand import understand

from .grounding_assert import assert_grounded

# ---------------------------------------------------------------- focus


def test_the_question_of_a_long_message_is_its_asking_clause():
    focus = find_focus("我妈七十多了住在定州农村，想问下全市有多少个邻里互助点")
    assert focus.question == "想问下全市有多少个邻里互助点"
    assert focus.story == "我妈七十多了住在定州农村"
    assert focus.marked                                     # introduced with 想问下


def test_the_question_may_sit_in_the_middle():
    focus = find_focus("我们村要做核酸，老人小孩一大堆，一天能检测多少人份？我还听说建了新实验室。")
    assert focus.question == "一天能检测多少人份"
    assert "新实验室" in focus.story and not focus.marked


def test_a_question_that_names_nothing_takes_the_clause_before_it():
    focus = find_focus("孩子上幼儿园了，听说有融合教育试点幼儿园，一共几所？")
    assert focus.question == "听说有融合教育试点幼儿园一共几所"
    assert focus.story == "孩子上幼儿园了"


def test_voice_fillers_end_clauses_and_are_dropped():
    focus = find_focus("嗯那个我爸在寿光呃就是说慢病专区取药要多长时间")
    assert focus.question == "慢病专区取药要多长时间"
    assert "嗯" not in focus.whole and "那个" not in focus.whole and "就是说" not in focus.whole


def test_a_one_clause_message_is_all_question():
    focus = find_focus("平泉坐公交多少钱")
    assert (focus.question, focus.story) == ("平泉坐公交多少钱", "")


@pytest.mark.parametrize("clause,expected", [
    ("全市有多少个邻里互助点", True), ("能不能免费", True), ("是不是24小时开放", True), ("在哪办", True),
    ("干环卫十几年了", False),            # 十几: an estimate, not a question
    ("一共几百家企业", False),
    ("家里老人没人照顾", False),          # 人没人 is no A-not-A question
    ("我在平泉开了家小厂子", False),
])
def test_which_clauses_ask(clause, expected):
    assert asks(clause) is expected


@pytest.mark.parametrize("clause,parts", [
    ("一共花了多少钱救助了多少人", ["一共花了多少钱", "救助了多少人"]),
    ("培训了多少人有多少人就业了", ["培训了多少人", "有多少人就业了"]),
    ("一共几百家企业贷了多少钱", ["一共几百家企业贷了多少钱"]),
    ("公交几块钱", ["公交几块钱"]),
])
def test_two_how_manys_in_one_clause_are_two_questions(clause, parts):
    assert split_questions(clause) == parts


# ---------------------------------------------------------------- understand


@pytest.mark.parametrize("text,city", [("不对，是寿光", "寿光"), ("我说的是宁德", "宁德"),
                                       ("不是定州，是宁德", "宁德"), ("不对，我问的是驻马店", "驻马店")],
                         ids=["budui", "wo-shuo-de", "bu-shi", "wo-wen-de"])
def test_a_correction_names_the_city_and_no_topic(brain, text, city):
    u = understand(text, brain.gazetteer, brain.spelling)
    assert u.correction and u.city == city and not u.names_topic and not u.declares_home


def test_saying_where_one_lives_is_no_correction(brain):
    u = understand("我是宁德的", brain.gazetteer, brain.spelling)
    assert u.declares_home and not u.correction and u.city == "宁德"


def test_voice_homophones_of_cities_are_understood(brain):
    u = understand("嗯那个受光的社区家长学校建了多少个", brain.gazetteer, brain.spelling)
    assert u.city == "寿光" and "家长学校" in u.text


def test_a_long_message_is_read_three_ways_each_judged_on_its_question(brain):
    u = understand("我在宁德打鱼，以前海上全是垃圾，听说在打捞海漂垃圾，今年一共捞了多少", brain.gazetteer,
                   brain.spelling)
    assert u.question == "今年一共捞了多少" and u.lead == "听说在打捞海漂垃圾"
    readings = u.readings
    assert [r.text for r in readings] == [u.text, u.question, u.lead + u.question]
    assert readings[0].focus == u.question and readings[1].story == u.story


# ---------------------------------------------------------------- the out-of-scope guard on the focus


async def test_a_long_question_is_answered_like_the_short_one(ask):
    """Regression: the story's words, unexplained by any topic, used to throw the question away."""
    reply = await ask("我妈七十多了住在定州农村，想问下全市有多少个邻里互助点")
    assert reply.kind == "answer" and "503个" in reply.text
    assert_grounded(reply)


@pytest.mark.parametrize("text", [
    "我家孩子在平泉上小学，课后服务挺好的，想问问护照怎么办理",
    "我在驻马店开出租车十几年了，电梯救援那个我知道，想问下驾照到期了怎么换",
    "我住定州城南，尧方街通车后方便多了，想问下定州今天限号吗",
], ids=["passport-after-school", "licence-elevator", "plates-road"])
async def test_a_story_does_not_drag_its_topic_into_an_out_of_scope_question(ask, text):
    reply = await ask(text)
    assert reply.kind in ("fallback", "refuse") and not reply.sources, reply.text


# ---------------------------------------------------------------- across turns


async def test_a_correction_keeps_the_topic_and_changes_the_city(ask):
    reply = await ask("驻马店老旧小区改造了多少个", "不是驻马店，是定州")
    assert reply.city == "定州" and "100个" in reply.text
    assert_grounded(reply)


async def test_a_correction_to_a_city_without_the_topic_refuses(ask):
    reply = await ask("驻马店社保卡多久能拿到", "我说的是寿光")
    assert reply.kind == "refuse" and "立等可取" not in reply.text


async def test_a_sub_aspect_stays_on_the_topic_and_city_just_discussed(ask):
    reply = await ask("宁德东侨开发区办实事项目梳理了多少件", "已经完成多少件了")
    assert reply.city == "宁德" and "43件" in reply.text


async def test_a_topic_switch_keeps_the_declared_home_city(ask):
    reply = await ask("我住在寿光", "驻马店社保卡多久能拿到", "大病保险起付线多少")
    assert reply.city == "寿光" and "1.8万元" in reply.text


# ---------------------------------------------------------------- sibling topics


def test_title_overlap_and_kinship():
    assert title_overlap("养老服务中心", "街道综合养老服务中心") == 1.0
    assert title_overlap("城乡公交票价", "邻里互助点") == 0.0


@pytest.fixture(scope="module")
def split_brain(brain):
    """The knowledge with one topic split in two, as if each briefing's name had become its own topic:
    定州's 养老服务中心 and 驻马店's 街道综合养老服务中心."""
    kn = brain.knowledge
    both = kn.by_id["elderly-care-center-count"]
    dz = replace(both, answers=MappingProxyType({"定州": both.answers["定州"]}))
    zmd = replace(both, id="street-elderly-care-center", title="街道综合养老服务中心",
                  examples=("街道综合养老服务中心建了几个", "街道有综合养老中心吗", "街道养老中心有多少家",
                            "综合养老服务中心在哪", "街道养老服务中心能做什么"),
                  keywords=("街道综合养老服务中心",), answers=MappingProxyType({"驻马店": both.answers["驻马店"]}))
    topics = tuple(t for t in kn.topics if t.id != both.id) + (dz, zmd)
    return build_brain(Knowledge(kn.seeds, topics))


def test_a_sibling_is_the_other_citys_topic_of_the_same_name(split_brain):
    kn = split_brain.knowledge
    dz, zmd = kn.by_id["elderly-care-center-count"], kn.by_id["street-elderly-care-center"]
    assert names_the_same(dz, zmd)
    assert sibling(split_brain.matcher, kn, dz, "驻马店", "养老服务中心建了多少个") is zmd
    assert sibling(split_brain.matcher, kn, kn.by_id["bus-fare"], "定州", "坐公交多少钱") is None


def test_that_city_then_gets_its_sibling_topic(split_brain):
    dialogue = Dialogue(split_brain, store=None)
    reply, session = dialogue.turn("定州的养老服务中心建了多少个", Session())
    assert reply.city == "定州" and "11个" in reply.text
    reply, _ = dialogue.turn("那驻马店呢", session)
    assert reply.kind == "answer" and reply.topic == "street-elderly-care-center" and "12个" in reply.text
    assert_grounded(reply)


# ---------------------------------------------------------------- several questions in one message


async def test_two_questions_two_topics_get_both_figures_each_with_its_source(ask):
    reply = await ask("寿光家长学校有多少个，家长接送区有多少个")
    assert "99个" in reply.text and "40个" in reply.text
    assert reply.text.count("——来源") == 2
    assert_grounded(reply)


async def test_two_questions_one_topic_get_one_answer(ask):
    reply = await ask("宁德打击了多少起环境违法行为，罚了多少钱")
    assert "157起" in reply.text and "1403万元" in reply.text and reply.text.count("——来源") == 1


async def test_a_second_question_of_another_area_adds_no_stray_topic(ask):
    """"已经完工几个" alone fits school construction best; the message is about rural sewage."""
    reply = await ask("宁德农村生活污水处理设施计划建多少个村，已经完工几个")
    assert "64个" in reply.text and "19个" in reply.text and reply.text.count("——来源") == 1
