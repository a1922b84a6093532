"""What a citizen notices in a conversation: right figure and city, clarify, remember, refuse honestly."""
import pytest

from .grounding_assert import assert_grounded


async def test_bus_fare_answer_has_figures_city_and_source(ask):
    reply = await ask("平泉坐公交车要多少钱")
    assert reply.kind == "answer" and reply.city == "平泉"
    assert "2元" in reply.text and "8元" in reply.text
    assert "来源：平泉" in reply.text and reply.sources[0].seed.startswith("000_")
    assert_grounded(reply)


@pytest.mark.parametrize("question,city,needle", [
    ("寿光大病医保起付线", "寿光", "1万元"),
    ("驻马店社宝卡在哪办", "驻马店", "银行"),                     # 同音字: 社宝卡
    ("平泉公交車票價多少", "平泉", "2元"),                         # traditional characters
    ("我今年50岁住在平泉农村能免费体检吗", "平泉", "45-64周岁"),
    ("台头山饮水工程解决了多少户", "平泉", "1482户"),              # a town names its city
    ("东侨开发区企业诉求解决了多少件", "宁德", "98件"),
])
async def test_sloppy_questions_find_the_right_fact(ask, question, city, needle):
    reply = await ask(question)
    assert reply.city == city and needle in reply.text, reply.text
    assert_grounded(reply)


async def test_clarifies_when_several_cities_have_the_topic(ask):
    reply = await ask("老旧小区改造进展怎么样")
    assert reply.kind == "clarify"
    assert {"平泉", "定州", "驻马店"} <= set(reply.suggestions)
    assert not any(f in reply.text for f in ("49个", "100个", "11675"))


async def test_the_city_named_next_answers_the_pending_question(ask):
    reply = await ask("老旧小区改造进展怎么样", "定州")
    assert reply.kind == "answer" and reply.city == "定州" and "100个" in reply.text


async def test_remembers_the_users_city(ask):
    reply = await ask("我是寿光的", "大病保险起付线多少")
    assert reply.city == "寿光" and "1.8万元" in reply.text


async def test_switches_city_on_the_same_topic(ask):
    reply = await ask("定州老旧小区改造了多少个", "那驻马店呢")
    assert reply.city == "驻马店" and "11675" in reply.text


async def test_follow_up_on_the_same_subject(ask):
    reply = await ask("寿光职工大病保险起付线多少", "居民呢")
    assert reply.city == "寿光" and "1万元" in reply.text


@pytest.mark.parametrize("question,owner,forbidden", [
    ("北京公交票价多少", "平泉", ("2元", "8元")),
    ("平泉大病保险起付线是多少", "寿光", ("1.8万元", "1万元")),
    ("寿光社保卡多久能拿到", "驻马店", ("立等可取",)),
])
async def test_never_passes_another_citys_figure_off(ask, question, owner, forbidden):
    reply = await ask(question)
    assert reply.kind == "refuse", reply.text
    assert not any(f in reply.text for f in forbidden)
    assert owner in reply.text                       # names the city that has the topic
    assert "12345" in reply.text


@pytest.mark.parametrize("question", ["今天天气怎么样", "帮我买张去北京的火车票", "讲个笑话", "asdfghjkl", "😀😀😀"])
async def test_out_of_scope_gets_a_polite_fallback(ask, question):
    reply = await ask(question)
    assert reply.kind in ("fallback", "refuse"), reply.text
    assert "12345" in reply.text and "元" not in reply.text and "%" not in reply.text


@pytest.mark.parametrize("text,kind,needle", [
    ("你好", "smalltalk", "平泉"), ("谢谢", "smalltalk", "不客气"), ("你能做什么", "smalltalk", "寿光"),
    ("你们能查哪些城市", "smalltalk", "平泉、定州、驻马店、宁德、寿光五地"), ("哪些城市可以问", "smalltalk", "寿光"),
])
async def test_greetings_thanks_and_help(ask, text, kind, needle):
    reply = await ask(text)
    assert reply.kind == kind and needle in reply.text


async def test_lost_figures_are_never_stated(ask):
    reply = await ask("寿光医保经办事项掌办率多少")
    assert "掌办率达到%" not in reply.text and "未给出具体数字" in reply.text
    reply = await ask("寿光居民医保财政补助每人每年多少钱")
    assert "每年元" not in reply.text and "未给出具体数字" in reply.text


async def test_answers_suggest_at_most_three_related_questions(ask):
    reply = await ask("驻马店电梯困人救援要多久")
    assert 1 <= len(reply.suggestions) <= 3
    assert all("驻马店" in s for s in reply.suggestions)


@pytest.mark.parametrize("text", ["", "   ", "？？？", "平泉" * 3000, "😀平泉公交😀票价", "\x00\x01"])
async def test_odd_input_gets_a_clear_reply(ask, text):
    reply = await ask(text)
    assert reply.text and reply.kind in ("fallback", "answer", "ack", "clarify")
    assert_grounded(reply)


async def test_start_over_forgets_city_and_topic(ask):
    reply = await ask("我是寿光的", "重新开始", "大病保险起付线多少")
    assert reply.city == "寿光"     # only 寿光 has it: answered with its city named, not from memory
    reply = await ask("我是定州的", "重新开始", "老旧小区改造进展怎么样")
    assert reply.kind == "clarify"
