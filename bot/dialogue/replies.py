"""Wording of every reply. The dialogue decides what to say; this module says it, in one voice."""
from __future__ import annotations

from datetime import date

from bot.knowledge.schema import Knowledge, Seed, Topic
from bot.models import Reply, Source
from bot.understanding.passages import Passage

HOTLINE = "12345政务服务便民热线"
_NUMERALS = "零一二三四五六七八九"


def places(cities: tuple[str, ...]) -> str:
    """平泉、定州、驻马店、宁德、寿光五地. The cities are the published version's (Knowledge.answered_cities),
    not a fixed list: staff add a city by uploading its briefing and publishing an answer for it."""
    return f"{'、'.join(cities)}{_count(len(cities))}地"


def scope(cities: tuple[str, ...]) -> str:
    return (f"我可以回答{places(cities)}“我为群众办实事”新闻发布会介绍过的民生问题，"
            "比如公交票价、大病保险起付线、社保卡办理、课后服务、老旧小区改造、电梯救援、企业开办等")


def _count(n: int) -> str:
    """5 -> 五, 12 -> 十二, 21 -> 二十一: how many cities, as the sentence says it."""
    if n < 10:
        return _NUMERALS[n]
    if n >= 100:
        return str(n)
    tens, ones = divmod(n, 10)
    return f"{_NUMERALS[tens] if tens > 1 else ''}十{_NUMERALS[ones] if ones else ''}"


def canonical_question(topic: Topic, city: str | None = None) -> str:
    """A question a citizen can tap to ask this topic: the topic's first example, with the city."""
    return f"{city or ''}{topic.examples[0]}"


def source_line(seed: Seed, dept: str | None = None, as_of: str | None = None) -> str:
    """How a reply names its briefing: 来源：寿光·回应群众关切解决民生诉求，9月8日，寿光市医保局介绍.
    An answer staff dated says so: …，截至2025年3月1日，…"""
    when = f"，截至{chinese_date(as_of)}" if as_of else f"，{seed.date}" if seed.date else ""
    said = f"，{dept}介绍" if dept else ""
    return f"来源：{seed.city}·{seed.title}{when}{said}"


def chinese_date(text: str) -> str:
    """2025-03-01 -> 2025年3月1日; any other wording is shown as staff wrote it."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.year}年{day.month}月{day.day}日"


def answer(kn: Knowledge, topics: Topic | tuple[Topic, ...], city: str, score: float,
           suggestions: tuple[str, ...]) -> Reply:
    """The topic's answer for the city. A message that asked several things gets the answers of several
    topics (the first is the reply's topic), each with its own source line, so every figure stays next to
    the briefing it comes from."""
    topics = topics if isinstance(topics, tuple) else (topics,)
    texts, sources = [], []
    for t in topics:
        text, cited = _one_answer(kn, t, city)
        texts.append(text)
        sources += cited
    return Reply("\n".join(texts), topics[0].id, city, score, tuple(sources), suggestions, "answer")


def _one_answer(kn: Knowledge, topic: Topic, city: str) -> tuple[str, list[Source]]:
    ans = topic.answers[city]
    body = ans.text if city in ans.text else f"【{city}】{ans.text}"
    label = source_line(kn.seeds[ans.seed], ans.dept, ans.as_of)
    return f"{body}\n——{label}", [Source(ans.seed, city, q, label, ans.dept) for q in ans.quotes]


def excerpt(kn: Knowledge, passage: Passage, score: float) -> Reply:
    seed = kn.seeds[passage.seed]
    label = source_line(seed)
    text = (f"【{passage.city}】没有现成的整理答案，以下是{passage.city}发布会原文中最相关的一句摘录，供参考：\n"
            f"“{passage.text}”\n——{label}")
    return Reply(text, None, passage.city, score, (Source(seed.file, seed.city, passage.text, label),), (),
                 "excerpt")


def clarify_city(topic: Topic, score: float) -> Reply:
    cities = topic.cities()
    text = f"「{topic.title}」{'、'.join(cities)}的发布会都有介绍，请问您想了解哪个城市的？"
    return Reply(text, topic.id, None, score, (), cities, "clarify")


def refuse_city(topic: Topic, city: str, score: float) -> Reply:
    have = topic.cities()
    text = (f"抱歉，{city}的发布会没有介绍「{topic.title}」，我不能拿别的城市的数字来回答{city}的情况。"
            f"目前只有{'、'.join(have)}的发布会讲到了这方面。{city}的具体情况请拨打{HOTLINE}咨询。")
    return Reply(text, topic.id, city, score, (), tuple(canonical_question(topic, c) for c in have[:3]),
                 "refuse")


def refuse_other_place(kn: Knowledge, place: str, topic: Topic | None, score: float) -> Reply:
    about = ""
    suggestions: tuple[str, ...] = ()
    if topic:
        about = f"关于「{topic.title}」，只有{'、'.join(topic.cities())}的发布会有介绍。"
        suggestions = tuple(canonical_question(topic, c) for c in topic.cities()[:3])
    text = (f"抱歉，我只有{places(kn.answered_cities)}发布会的资料，没有{place}的信息。{about}"
            f"{place}的情况请拨打当地{HOTLINE}咨询。")
    return Reply(text, topic.id if topic else None, None, score, (), suggestions, "refuse")


def fallback(kn: Knowledge, suggestions: tuple[str, ...]) -> Reply:
    text = (f"抱歉，这个问题我在发布会资料里没有找到答案。{scope(kn.answered_cities)}。"
            f"其他问题请拨打{HOTLINE}咨询。")
    return Reply(text, None, None, 0.0, (), suggestions, "fallback")


def ask_city_topic(city: str, suggestions: tuple[str, ...]) -> Reply:
    return Reply(f"好的，记住了，您关心的是{city}。请问想了解{city}哪方面的情况？", None, city, 1.0, (),
                 suggestions, "ack")


def empty_input(kn: Knowledge) -> Reply:
    text = f"您好像还没有输入问题。{scope(kn.answered_cities)}，请直接打字提问。"
    return Reply(text, None, None, 0.0, (), (), "fallback")


def unreadable_input(kn: Knowledge) -> Reply:
    text = f"抱歉，没看懂您的意思。{scope(kn.answered_cities)}，请用文字提问；也可以拨打{HOTLINE}。"
    return Reply(text, None, None, 0.0, (), (), "fallback")
