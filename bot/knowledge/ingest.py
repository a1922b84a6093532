"""A new briefing: its candidate facts, and the figures its transcription lost.

`candidates(text)` lists the sentences worth an answer: those with figures, fees, time limits, phone
numbers or places, grouped by paragraph, each with what it holds. `holes(text)` finds transcription
gaps by their shape, as seed 004's were found by hand ("每人每年元", "达到%", "，个家庭走出了",
"片区套棚户区", "降到0元"): a unit or counter with no number before it, or a number that lost its leading
digits. A sentence with a hole is flagged and cannot become a quote.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_NUM = r"0-9０-９.零〇一二三四五六七八九十百千万亿两几多余半数"
# counters that stand for a number, and not the words they begin (项目, 所有, 个别, 户厕, 名镇 …)
_COUNTER = (r"(?:个(?![别人体性])|名(?![镇村称单义师校医优片胜])|家(?![庭长属乡门具电园里中人])|种(?![植类养子粮地菜树苗])"
            r"|件(?!事)|户(?![厕籍口型外])|套(?!餐)|项(?![目痹])|座(?!谈)|所(?![有以在属得谓辖需处提])|辆)")
# 1. a money or measure unit right after something that is not a number: "每人每年元", "达到%", "约万元"
_UNIT_ALONE = re.compile(rf"(?<=[^{_NUM}单公纪方])(?:%|％|元(?![旦化素宵件])|万元|亿元|公里|平方米|余名|多名)"
                         rf"|(?<=[^0-9])\.[0-9]|(?<=[^{_NUM}])多元(?![化。，,])|“”")
# 2. a counter opening a clause, its number lost: "，个家庭走出了", "，家定点医药机构"; a year: "\n年，"
_COUNTER_OPENS = re.compile(rf"(?:^|(?<=[，。；、,;：:（(]))(?:{_COUNTER}(?=[\u4e00-\u9fff])|年(?=[，,]))", re.M)
# 3. a verb that takes a number, followed by a counter, a year or 人: "建成家", "将种谈判药品", "自年成立"
_VERB_COUNTER = re.compile(r"(?:达到|达|约|共|累计|投资|完成|建成|将|新增|招聘|为|自|力争|征集的|为期|对|其中|事项"
                           r"|下达的)"
                           rf"(?=(?:{_COUNTER}|年(?![代级度轻龄初底中])|人(?![民员才口社大员])))")
# 4. a head count after who is counted: "教师人，", "研究生人。"
_PEOPLE = re.compile(r"(?<=[师生员者工])人(?=[，。；,;])")
# 5. a counter right after a place and before what it counts: "东营片区套棚户区", "各乡镇个村". A place
#    name (…区, …镇, …乡, …村, …县, …市, 街道) is a noun, so what stood between it and the counter was
#    the number.
_PLACE_COUNTER = re.compile(rf"(?<=[区镇乡村县市道]){_COUNTER}(?=[\u4e00-\u9fff])")
# 6. a figure whose leading digits were lost: "降到0元" (a "0" alone before a unit; a zero amount is
#    written 零 or 免费), "为05个". Dates keep their zeros ("06月30日"): 月, 日 and 时 are not units here.
_LOST_LEAD = re.compile(rf"(?<![{_NUM}．])[0０](?=[0-9０-９]*(?:%|％|元|万|亿|个|名|家|户|套|项|件|人|公里|平方米))")
PATTERNS = (_UNIT_ALONE, _COUNTER_OPENS, _VERB_COUNTER, _PEOPLE, _PLACE_COUNTER, _LOST_LEAD)

_FIGURE = re.compile(r"[0-9０-９]+(?:\.[0-9]+)?|[零〇一二三四五六七八九十百千万亿两]+(?=[个名家种件户套项座所元年月日天人次%倍])")
_FEE = re.compile(r"元|收费|费用|票价|价格|补贴|资金|报销|起付|减免|免费")
_TIME = re.compile(r"工作日|个月|小时|分钟|天内|日内|年内|时限|期限|之前|以前|截至|截止|当天|即办")
_PHONE = re.compile(r"(?:\d{3,4}-)?\d{7,8}|1[3-9]\d{9}|12345|96\d{3}")
_PLACE = re.compile(r"[\u4e00-\u9fff]{1,6}(?:镇|乡|村|街道|社区|开发区|新区|园区|路|街|大道|广场|中心|大厅)")
_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")


@dataclass(frozen=True)
class Candidate:
    paragraph: int          # 1-based
    sentence: str           # verbatim from the briefing
    start: int              # offset in the briefing text
    kinds: tuple[str, ...]  # figure, fee, time, phone, place
    subject: str            # what it is about: the words before its first figure or comma
    holes: tuple[int, ...] = field(default=())   # offsets inside the sentence of lost figures

    @property
    def lost_figure(self) -> bool:
        return bool(self.holes)

    def to_json(self) -> dict:
        return {"paragraph": self.paragraph, "sentence": self.sentence, "start": self.start,
                "kinds": list(self.kinds), "subject": self.subject, "lost_figure": self.lost_figure,
                "holes": list(self.holes)}


def holes(text: str) -> list[int]:
    """Offsets where a figure seems to be missing (the place a number should stand)."""
    found = set()
    for pattern in PATTERNS:
        for m in pattern.finditer(text):
            found.add(m.end() if pattern is _VERB_COUNTER else m.start())
    return sorted(found)


def gaps_of(text: str, width: int = 6) -> list[str]:
    """The holes written as seeds/meta.yaml writes gaps: a few characters each side, `_` at the hole."""
    out = []
    for h in holes(text):
        left = re.split(r"[，。；、,;：:\n]", text[max(0, h - width):h])[-1]
        right = re.split(r"[，。；、,;：:\n]", text[h:h + width])[0]
        out.append(f"{left}_{right}")
    return list(dict.fromkeys(out))


def candidates(text: str) -> list[Candidate]:
    lost = holes(text)
    out, offset = [], 0
    for number, paragraph in enumerate(_paragraphs(text), start=1):
        start = text.find(paragraph, offset)
        offset = start + len(paragraph)
        for m in _SENTENCE.finditer(paragraph):
            sentence = m.group().strip()
            kinds = _kinds(sentence)
            if not kinds:
                continue
            at = start + m.start() + (len(m.group()) - len(m.group().lstrip()))
            inside = tuple(h - at for h in lost if at <= h < at + len(sentence))
            out.append(Candidate(number, sentence, at, kinds, _subject(sentence), inside))
    return out


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def _kinds(sentence: str) -> tuple[str, ...]:
    found = []
    if _FIGURE.search(sentence):
        found.append("figure")
    if _FEE.search(sentence) and _FIGURE.search(sentence):
        found.append("fee")
    if _TIME.search(sentence):
        found.append("time")
    if _PHONE.search(sentence):
        found.append("phone")
    if _PLACE.search(sentence):
        found.append("place")
    substantive = {"figure", "phone"} & set(found) or ({"time", "place"} <= set(found))
    return tuple(found) if substantive or holes(sentence) else ()


def _subject(sentence: str) -> str:
    head = re.split(r"[，,：:；0-9０-９]", sentence, maxsplit=1)[0]
    head = re.sub(r"^(目前|截至目前|同时|此外|另外|其中|我们|今年|去年|近年来|下一步)[，,]?", "", head)
    return head[:20]


def sentence_at(text: str, start: int) -> str | None:
    """The candidate sentence that starts at `start` (for turning a candidate into a quote)."""
    return next((c.sentence for c in candidates(text) if c.start == start), None)
