"""What the WeChat channel says on its own (welcome, hints) and how a reply is fitted into one message."""
from __future__ import annotations

import re

from bot.dialogue.replies import HOTLINE, scope
from bot.models import Reply

MAX_BYTES = 2048          # WeChat's limit for the Content of a passive text reply, in UTF-8 bytes
MORE_WORDS = frozenset({"继续", "更多", "余下", "剩下的", "后面呢", "下一页"})
MORE_HINT = "\n（内容较长，回复“继续”查看余下部分）"

MEDIA_HINT = "抱歉，我暂时看不懂图片、视频、链接和文件。请直接用文字或语音描述您的问题，例如“寿光大病保险起付线多少”。"
VOICE_UNRECOGNISED = "抱歉，这条语音没有识别出文字。请再说一遍，或者直接打字提问。"
NOTHING_MORE = "前面的回答已经全部发完了。请问还想了解什么？"
RATE_HINT = "\n（回复 1 表示有帮助，2 表示没帮助）"
RATINGS = {"1": True, "2": False}
THANKS = "谢谢您的评价！还有什么想问的，直接发给我就好。"
RATING_AWAY = "抱歉，系统暂时有点忙，这次评价没能记下，请稍后再回复一次。有问题可以直接打字提问。"
TROUBLE = f"抱歉，系统暂时有点忙，请稍后再问一次，或拨打{HOTLINE}咨询。"

# Where a long answer may be cut: after a sentence, else after a clause.
_SENTENCE_END = re.compile(r"[。！？!?；;…\n]")
_CLAUSE_END = re.compile(r"[，,、：:）)」”]")


# What the account can answer names the cities of the published version (Knowledge.answered_cities).
def welcome(cities: tuple[str, ...]) -> str:
    return (f"感谢关注！我是城市民生问答助手。{scope(cities)}。\n"
            "直接发文字或语音提问即可，例如“平泉坐公交多少钱”“驻马店社保卡多久能拿到”。"
            "提问时带上城市名会更准确；也可以发送位置，我会记住离您最近的城市。")


def menu_unknown(cities: tuple[str, ...]) -> str:
    return f"这个菜单项暂时不可用，请直接打字提问。{scope(cities)}。"


def outside(cities: tuple[str, ...]) -> str:
    return (f"您所在的位置不在{'、'.join(cities)}附近，我没有当地的资料。{scope(cities)}；"
            f"当地的问题请拨打{HOTLINE}咨询。")


def located(city: str) -> str:
    return f"已根据您的位置记住城市：{city}。接下来没说城市的问题，我都按{city}来回答；想问别的城市，提问时带上城市名即可。"


def render(reply: Reply) -> str:
    """A Reply as WeChat text: the answer, then the questions the user can ask next (WeChat has no chips)."""
    if not reply.suggestions or (reply.kind == "clarify" and reply.topic):
        return reply.text          # a question for the city already names the cities to reply with
    label = "可以回复：" if reply.kind == "clarify" else "您还可以问："
    return f"{reply.text}\n{label}\n" + "\n".join(f"· {s}" for s in reply.suggestions)


def fit(text: str, limit: int = MAX_BYTES) -> tuple[str, str]:
    """(what fits in one message, the rest). A cut falls after a sentence and says how to get the rest."""
    if _size(text) <= limit:
        return text, ""
    budget = limit - _size(MORE_HINT)
    head = _prefix_within(text, budget)
    cut = _last_boundary(head, _SENTENCE_END) or _last_boundary(head, _CLAUSE_END) or len(head)
    return text[:cut].rstrip() + MORE_HINT, text[cut:].lstrip()


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _prefix_within(text: str, budget: int) -> str:
    return text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")


def _last_boundary(head: str, pattern: re.Pattern) -> int:
    """Index just after the last boundary, if it keeps at least a third of the message (else 0)."""
    ends = [m.end() for m in pattern.finditer(head)]
    return ends[-1] if ends and ends[-1] >= len(head) // 3 else 0
