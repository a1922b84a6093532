"""The problems `citizen-bot check` finds, said in plain Chinese next to the field staff must fix."""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge.check import MIN_EXAMPLES, Finding
from bot.knowledge.schema import CITIES, FIGURE_MISSING

# A figure as a reader sees it in the answer: "3" is shown as "3元", "50" as "50%".
_UNIT = (r"(?:多|余)?[万亿千百]?(?:平方米|公里|千米|小时|分钟|公斤|元|个|人|户|所|家|次|名|件|座|辆|台|条|倍|%|％"
         r"|米|吨|亩|年|月|日|天|岁|项|处|张|本|册|间|班|趟|路|kg)?")


@dataclass(frozen=True)
class FieldError:
    field: str       # "title", "examples", "answers.平泉.text", ...
    message: str     # plain Chinese, for the person who edits the field

    def to_json(self) -> dict:
        return {"field": self.field, "message": self.message}


def as_shown(figure: str, text: str) -> str:
    """The figure with its unit, as it stands in `text` (the first place it does)."""
    found = re.search(r"(?<![\d.])" + re.escape(figure) + _UNIT, text) if figure[:1].isdigit() else None
    return found.group(0) if found else figure


def texts_of(topic):
    """field name -> its text in `topic` (None: no topic), for showing a figure as the answer writes it."""
    def text(field: str) -> str:
        parts = field.split(".")
        if topic and len(parts) == 3 and parts[1] in topic.answers:
            return str(getattr(topic.answers[parts[1]], parts[2], "") or "")
        return ""
    return text


def field_error(f: Finding, text_of) -> FieldError:
    """`text_of(field)` gives the field's current text, to show a figure as the answer writes it."""
    v = f.value
    messages = {
        "unknown_seed": lambda: f"“{v}”不是已有的发布会简报",
        "seed_city": lambda: f"所选简报是{v}的发布会，不是这个城市的",
        "no_quotes": lambda: "至少需要一条简报原文引用",
        "quote_not_verbatim": lambda: f"引用不是简报原文：“{v}”",
        "quote_lost_figure": lambda: f"引用包含简报中缺失的数字，不能引用：“{v}”",
        "figure_ungrounded": lambda: f"答案中的“{as_shown(v, text_of(f.field))}”不在引用原文中",
        "figure_missing_unsaid": lambda: f"这条答案的数字在简报中缺失，答案必须写明“{FIGURE_MISSING}”",
        "dept_not_in_seed": lambda: f"部门“{v}”在简报中没有出现",
        "bad_date": lambda: f"复查日期“{v}”格式不对，应写成2025-01-31这样的日期",
        "few_examples": lambda: f"相似问法至少要{MIN_EXAMPLES}个，现在只有{v}个",
        "example_names_city": lambda: f"相似问法“{v}”里有城市名；问法不写城市，城市由系统识别",
        "title_figure": lambda: f"标题不能含数字（{v}）：标题会出现在不注明来源的回复里",
        "unknown_related": lambda: f"相关话题“{v}”不存在",
        "no_answers": lambda: "至少需要一个城市的答案",
        "duplicate_id": lambda: f"话题编号“{v}”已被其他话题使用",
        "duplicate_example": lambda: "相似问法“{}”已用于话题：{}".format(*v.split("\t")),
    }
    return FieldError(f.field, messages.get(f.kind, lambda: f.text)())


# load.shape_problems's wording -> (field, message)
_SHAPES = [
    (re.compile(r"missing '(\w+)'$"), lambda m: (m[1], "这一项不能为空")),
    (re.compile(r"unknown key '(\w+)'$"), lambda m: (m[1], f"不认识的字段“{m[1]}”")),
    (re.compile(r"'(.+)' is not one of"), lambda m: (f"answers.{m[1]}", f"“{m[1]}”不是{'、'.join(CITIES)}之一")),
    (re.compile(r", (.+): an answer needs 'text' and 'seed'$"),
     lambda m: (f"answers.{m[1]}", "每个城市的答案都要有答案文字和所依据的简报")),
    (re.compile(r"'(\w+)' must be a list$"), lambda m: (m[1], "应当是一个列表")),
    (re.compile(r"'answers' must map"), lambda m: ("answers", "答案的格式不对")),
]


def shape_error(problem: str) -> FieldError:
    for pattern, make in _SHAPES:
        m = pattern.search(problem)
        if m:
            return FieldError(*make(m))
    return FieldError("", "话题的格式不对")
