"""Question focus: which part of a long or spoken message is the question, and which part is the story.

Citizens tell their story first ("我妈七十多了住在定州农村，想问下全市有多少个邻里互助点") and dictate
without punctuation ("嗯那个受光的社区家长学校建了多少个呃还有那个家长接送区是四十个吗"). The topic is
judged on the interrogative clauses; the story still lends its words, at a lower weight, and its places.
Everything here works on raw text and is pure.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# Voice fillers. Said between two thoughts, most are also where a spoken sentence would have a comma;
# 那个 is as often a typed "that" ("电梯里贴的那个二维码"), so it goes without ending a clause.
_PAUSE = r"嗯+|呃+|唔+|就是说|然后呢|然后|怎么说呢|你知道吧"
_FILLER = _PAUSE + r"|那个"
# Clause ends: sentence and clause punctuation (not 、, which joins the items of a list), spaces,
# and pauses.
_CLAUSE_END = re.compile(rf"[，,。.？?！!；;：:\s\u3000…]+|{_PAUSE}")
# How a clause asks: question words, A-not-A forms (能不能, 中不中), a final 吗/呢. 几 counts unless it
# is an estimate (十几年, 几百家) or 几乎.
_HOW_MANY = r"多少|(?<![\d十好])几(?![\d十百千万乎])"
_ASKS = re.compile(rf"{_HOW_MANY}|多久|多长|多大|多远|多高|怎么|怎样|咋|如何|什么|啥|哪|谁|是否|有没有|了没|吗|么样|"
                   r"(\w)不\1|呢$")
# A question that names nothing ("一共几所", "这条路有多长") leans on the clause just before it.
_CONTENT = re.compile(r"[\u4e00-\u9fff]{2,}")
_EMPTY_WORDS = re.compile(r"多少|多久|多长时间|多长|几个|几所|几家|一共|总共|现在|目前|到底|大概|一般|全市|"
                          r"请问|想问问|想问|问一下|问下|我想|一下|这个|这条|这些|那些|的|了|吗|呢|啊|呀|吧|"
                          r"有|是|能|要|还|都|就|在|个|所|家|条|点|些|么|怎|咋|啥|什么|哪|几|谁")
# A second how-many inside one clause asks a second thing ("一共花了多少钱救助了多少人"): the cut falls
# before its predicate, a verb of one or two characters with an optional 了 ("救助了"), or 有.
_HOW_MANY_RX = re.compile(_HOW_MANY)
_PREDICATES = (re.compile(r"有$"), re.compile(r"[\u4e00-\u9fff]{1,2}了$"), re.compile(r"[\u4e00-\u9fff]{2}$"))
MIN_PART = 3
# How a citizen announces the question after telling the story.
_MARKER = re.compile(r"^(我|俺)?(就|还)?(想|要)?(问问|问下|问一下|请问|知道|咨询|打听)")


@dataclass(frozen=True)
class Focus:
    question: str                 # the interrogative clause(s), joined
    story: str                    # everything else
    parts: tuple[str, ...]        # the separate questions asked, when there are several
    lead: str = ""                # the story clause just before the question, which often names its topic
    whole: str = ""               # all clauses, joined
    marked: bool = False          # the question opens with 想问下, 请问 …: what came before is story


def without_fillers(text: str) -> str:
    return re.sub(_FILLER, "", text)


def clauses(text: str) -> list[str]:
    """The clauses of a message, split at punctuation, spaces and voice fillers."""
    return [c for c in _CLAUSE_END.split(text) if c]


def asks(clause: str) -> bool:
    """Whether a clause is a question rather than part of the story."""
    return _ASKS.search(clause) is not None


def names_something(clause: str) -> bool:
    """Whether a clause has a content word of its own, once question words and particles are gone."""
    return _CONTENT.search(_EMPTY_WORDS.sub(" ", clause)) is not None


def split_questions(clause: str) -> list[str]:
    """"一共花了多少钱救助了多少人" -> ["一共花了多少钱", "救助了多少人"]; a clause with one question
    word stays whole."""
    pieces, start = [], 0
    for m in list(_HOW_MANY_RX.finditer(clause))[1:]:
        before = clause[start:m.start()]
        cut = start + _predicate_start(before)
        long_enough = cut - start >= MIN_PART and len(clause) - cut >= MIN_PART
        if long_enough and _HOW_MANY_RX.search(clause[start:cut]):
            pieces.append(clause[start:cut])
            start = cut
    return pieces + [clause[start:]]


def _predicate_start(before: str) -> int:
    """Where the predicate of a question word begins, in the text before it ("…救助了" -> at 救)."""
    for rx in _PREDICATES:
        found = rx.search(before)
        if found:
            return found.start()
    return len(before)


def find_focus(text: str, tidy: Callable[[str], str] = lambda clause: clause) -> Focus:
    """Split a raw message into its question and its story; `tidy` (normalisation, spelling) is applied
    to each clause once, and every piece of the Focus is made of tidied clauses.

    With no clause that asks, or only one clause, the whole message is the question (as before). A
    question clause that names nothing takes the clause before it along."""
    found = [tidy(without_fillers(c)) for c in clauses(text)]
    found = [c for c in found if c]
    whole = "".join(found)
    asking = [i for i, c in enumerate(found) if asks(c)]
    if len(found) <= 1 or not asking:
        return Focus(whole, "", tuple(split_questions(whole)), whole=whole)
    groups: list[list[int]] = []
    for i in asking:
        group = [i]
        if not names_something(found[i]) and i > 0 and (not groups or groups[-1][-1] < i - 1):
            group.insert(0, i - 1)
        groups.append(group)
    taken = {i for g in groups for i in g}
    parts = [p for g in groups for p in split_questions("".join(found[i] for i in g))]
    question = "".join(found[i] for i in sorted(taken))
    story = "".join(c for i, c in enumerate(found) if i not in taken)
    before = groups[0][0] - 1
    lead = found[before] if before >= 0 and before not in taken else ""
    marked = any(_MARKER.match(found[i]) for i in asking)
    return Focus(question, story, tuple(parts), lead, whole, marked)
