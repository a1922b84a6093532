"""Greetings, thanks, "what can you do", goodbyes and "start over": answered before any topic matching."""
from __future__ import annotations

import re

from bot.dialogue.replies import HOTLINE, places, scope

_RULES = (
    # "你们能查哪些城市", "都有哪些城市的资料", "哪些城市可以问": which cities the bot covers
    ("cities", (r"(你|你们|您)?(都|能|可以|能够)?(查|问|回答|覆盖|支持|包括|有)(哪些|哪几个|什么|几个)(城市|地方|地区)"
                r"(的)?(问题|资料|信息|发布会)?|(哪些|哪几个)城市(的)?(问题|资料)?(可以|能)(问|查)?")),
    ("reset", r"(重新开始|重来|清空|清除记录|换个话题|从头开始|重置)"),
    ("help", r"(你|您)?(能|会|可以)(做|干|帮|问|回答)(我)?(些)?(什么|啥)|怎么用|使用说明|帮助|菜单|功能|help|能问(些)?(什么|啥)"),
    ("thanks", r"(谢谢|多谢|感谢|谢了|thanks|thank you|thx)"),
    ("bye", r"(再见|拜拜|bye|回头见)"),
    ("greeting", r"(你好|您好|在吗|在不在|哈喽|嗨|hello|hi|早上好|上午好|中午好|下午好|晚上好|有人吗)"),
)
_COMPILED = tuple((kind, re.compile(rf"^(?:{pattern})+(?:啊|呀|哈|哦|啦|您|你|机器人|小助手)*$"))
                  for kind, pattern in _RULES)

# {scope} and {places} name the cities of the published version: a city staff add is named too.
REPLIES = {
    "greeting": "您好！我是城市民生问答助手。{scope}。提问时带上城市名会更准确，例如“平泉坐公交多少钱”。",
    "help": "{scope}。\n您可以这样问：“驻马店社保卡多久能拿到”“寿光大病保险起付线多少”“定州不动产登记要几天”。"
            "没说城市时我会先问您是哪个城市；想换个话题，说“重新开始”即可。",
    "cities": "目前我有{places}“我为群众办实事”新闻发布会的资料，可以回答这些城市的民生问题。"
              f"其他城市的情况请拨打当地{HOTLINE}咨询。",
    "thanks": "不客气！还有其他问题随时问我。",
    "bye": f"再见！有需要随时来问，也可以拨打{HOTLINE}。",
    "reset": "好的，已经重新开始，之前记住的城市和话题都清空了。请问想了解什么？",
}


def reply(kind: str, cities: tuple[str, ...]) -> str:
    return REPLIES[kind].format(scope=scope(cities), places=places(cities))


def classify(text: str) -> str | None:
    """The small-talk kind of a whole normalised message, or None if it is (also) a real question."""
    return next((kind for kind, rx in _COMPILED if rx.match(text)), None)
