"""Spreadsheet rows <-> topics, and an import planned against the draft before anything is written.

How a row maps to a topic (also in docs/staff-inbox.md):
- 标准问题 is the topic's title. Rows with the same 标准问题 are one topic, one row per city.
- The topic is found in the draft by its title. A title not in the draft is a new topic; its id is made
  from the title's pinyin, syllables joined by hyphens (城乡公交票价 -> cheng-xiang-gong-jiao-piao-jia), with -2, -3 …
  when taken.
- 相似问题 and 分类 are the topic's; every row of the topic repeats them (a differing non-empty value is
  an error). 城市, 答案, 原文引用, 来源文件 and 截至日期 are that city's answer; a blank 来源文件 means the
  city's briefing.
- What the sheet has no column for stays as it is in the draft: the id, keywords, related topics, the
  file a topic lives in, and per answer the department, the figure-missing flag and the review-by date.
  An answer text saying 未给出具体数字 marks a new answer as figure-missing.
- An import never deletes: cities and topics absent from the sheet are left alone.
- mode "overwrite" replaces what the sheet has for existing topics; "skip" leaves existing topics alone.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from bot.knowledge import check
from bot.knowledge.dump import DEFAULT_FILE, knowledge_from, topic_to_raw
from bot.knowledge.errors import field_error, texts_of
from bot.knowledge.schema import FIGURE_MISSING, Knowledge
from bot.knowledge.sheets import COLUMNS, Sheet, lines_of

TITLE, EXAMPLES, CITY, TEXT, QUOTES, SEED, CATEGORY, AS_OF = COLUMNS
MODES = ("overwrite", "skip")


def rows_of(kn: Knowledge) -> list[dict[str, str]]:
    """One row per city-answer, topics in order; a topic without answers still gets a row."""
    rows = []
    for t in kn.topics:
        common = {TITLE: t.title, EXAMPLES: "\n".join(t.examples), CATEGORY: t.category}
        for city, a in t.answers.items():
            rows.append({**common, CITY: city, TEXT: a.text, QUOTES: "\n".join(a.quotes), SEED: a.seed,
                         AS_OF: a.as_of or ""})
        if not t.answers:
            rows.append({**common, CITY: "", TEXT: "", QUOTES: "", SEED: "", AS_OF: ""})
    return rows


@dataclass
class RowReport:
    row: int
    title: str
    city: str
    status: str = "unchanged"          # new | changed | unchanged | skipped | error
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"row": self.row, "title": self.title, "city": self.city, "status": self.status,
                "errors": self.errors}


@dataclass
class Plan:
    rows: list[RowReport]
    problems: list[str]                 # about the file as a whole
    topics: list[dict]                  # topic dicts to write (new and changed)
    created: list[str]                  # ids of the new ones
    blank_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not any(r.errors for r in self.rows)

    def counts(self) -> dict:
        out = {s: 0 for s in ("new", "changed", "unchanged", "skipped")}
        for r in self.rows:
            if r.status in out:
                out[r.status] += 1
        return {**out, "errors": sum(bool(r.errors) for r in self.rows), "blank_rows": self.blank_rows}

    def report(self) -> dict:
        return {"ok": self.ok, "counts": self.counts(), "problems": self.problems,
                "rows": [r.to_json() for r in self.rows], "topics": len(self.topics)}

    def lines(self) -> list[str]:
        """The report as text, one line per problem or row (the CLI's --dry-run output)."""
        out = [f"文件：{p}" for p in self.problems]
        for r in self.rows:
            head = f"第{r.row}行 {r.title} {r.city or '-'}：{_STATUS[r.status]}"
            out.append(head if not r.errors else head + "；" + "；".join(r.errors))
        c = self.counts()
        out.append(f"合计：新增{c['new']}，修改{c['changed']}，未变{c['unchanged']}，跳过{c['skipped']}，"
                   f"有错误{c['errors']}行，空行{c['blank_rows']}行")
        return out


_STATUS = {"new": "新增", "changed": "修改", "unchanged": "未变", "skipped": "跳过（已有话题）", "error": "有错误"}


def plan(sheet: Sheet, draft: dict, kn_seeds, mode: str = "overwrite") -> Plan:
    """What importing `sheet` into `draft` (a draft body) would do, row by row; changes nothing."""
    topics = copy.deepcopy(draft["topics"])
    by_title = {}
    for t in topics:
        by_title.setdefault(t["title"], []).append(t)
    reports = [RowReport(n, r.get(TITLE, ""), r.get(CITY, "")) for n, r in sheet.rows]
    groups: dict[str, list[tuple[RowReport, dict]]] = {}
    for rep, (_, r) in zip(reports, sheet.rows):
        if not rep.title:
            rep.errors.append("“标准问题”为空（如果是合并单元格，请取消合并并在每一行填写）")
        elif not rep.city:
            rep.errors.append("“城市”为空（如果是合并单元格，请取消合并并在每一行填写）")
        elif not r.get(TEXT):
            rep.errors.append("“答案”为空")
        else:
            groups.setdefault(rep.title, []).append((rep, r))
    cities = {s.city: s.file for s in sorted(kn_seeds.values(), key=lambda s: s.file)}
    made, created, ids = [], [], {t["id"] for t in topics}
    for title, members in groups.items():
        found = by_title.get(title, [])
        if len(found) > 1:
            for rep, _ in members:
                rep.errors.append(f"草稿里有{len(found)}个话题都叫“{title}”，无法确定导入到哪一个")
            continue
        old = found[0] if found else None
        if old and mode == "skip":
            for rep, _ in members:
                rep.status = "skipped"
            continue
        new = _topic(title, members, old, cities, ids)
        if new is None:
            continue
        if old is None:
            ids.add(new["id"])
            created.append(new["id"])
            topics.append(new)
        else:
            topics[topics.index(old)] = new
        _statuses(members, old, new)
        if new != old:
            made.append(new)
    _ground(reports, groups, made, topics, draft, kn_seeds)
    for rep in reports:
        if rep.errors:
            rep.status = "error"
    return Plan(reports, list(sheet.problems), made, created, sheet.blank_rows)


def _topic(title: str, members, old: dict | None, cities: dict, ids: set) -> dict | None:
    examples = _shared(members, EXAMPLES)
    category = _shared(members, CATEGORY)
    if examples is None or category is None:
        return None
    new = copy.deepcopy(old) if old else {"id": new_id(title, ids), "title": title, "category": "",
                                          "keywords": [], "examples": [], "answers": {},
                                          "file": DEFAULT_FILE, "comment": ""}
    if examples:
        new["examples"] = lines_of(examples)
    if category:
        new["category"] = category
    answers = dict(new.get("answers", {}))
    seen: dict[str, int] = {}
    for rep, r in members:
        city = rep.city
        if city in seen:
            rep.errors.append(f"城市“{city}”与第{seen[city]}行重复：同一标准问题每个城市只能有一行")
            continue
        seen[city] = rep.row
        if city not in cities:
            rep.errors.append(f"“{city}”不是已有简报的城市（{'、'.join(cities)}）")
            continue
        answers[city] = _answer(r, answers.get(city), cities[city])
    new["answers"] = answers          # the draft's cities keep their order; new ones follow
    return topic_to_raw_dict(new)


def topic_to_raw_dict(raw: dict) -> dict:
    """The topic as the draft stores it (the same normal form as a save), for an exact comparison."""
    from bot.knowledge.dump import topic_from_dict
    return topic_to_raw(topic_from_dict(raw))


def _shared(members, column: str) -> str | None:
    """A topic-level column: the same (or blank) on every row of the topic."""
    values = [(rep, r.get(column, "")) for rep, r in members]
    first = next(((rep, v) for rep, v in values if v), None)
    if first is None:
        return ""
    clash = [rep for rep, v in values if v and lines_of(v) != lines_of(first[1])]
    for rep in clash:
        rep.errors.append(f"“{column}”与第{first[0].row}行不一致：同一标准问题的各行应相同")
    return None if clash else first[1]


def _answer(r: dict, old: dict | None, city_seed: str) -> dict:
    a = dict(old or {})
    a["text"] = r.get(TEXT, "")
    a["quotes"] = lines_of(r.get(QUOTES, ""))
    a["seed"] = r.get(SEED) or (old or {}).get("seed") or city_seed
    if r.get(AS_OF):
        a["as_of"] = r[AS_OF]
    else:
        a.pop("as_of", None)
    if old is None and FIGURE_MISSING in a["text"]:
        a["figure_missing"] = True
    return a


def _statuses(members, old: dict | None, new: dict) -> None:
    topic_changed = old is not None and any(old.get(k) != new.get(k) for k in ("examples", "category", "title"))
    for rep, _ in members:
        before = (old or {}).get("answers", {}).get(rep.city)
        if old is None or before is None:
            rep.status = "new"
        elif topic_changed or before != new["answers"].get(rep.city):
            rep.status = "changed"


def _ground(reports, groups, made: list[dict], topics: list[dict], draft: dict, seeds) -> None:
    """Every check of `citizen-bot check` that concerns an imported topic, reported on its rows."""
    if not made:
        return
    kn = knowledge_from(seeds, {"topics": topics, "headers": draft.get("headers") or {}})
    titles = {t["id"]: t["title"] for t in made}
    for topic_id, title in titles.items():
        members = groups.get(title, [])
        rows: dict[str, RowReport] = {}
        for rep, _ in members:
            rows.setdefault(rep.city, rep)          # a repeated city's answer is the first row's
        first = members[0][0] if members else None
        topic = kn.topic(topic_id)
        for f in check.findings_for(kn, topic_id):
            err = field_error(f, texts_of(topic))
            parts = err.field.split(".")
            rep = rows.get(parts[1]) if len(parts) >= 2 and parts[0] == "answers" else first
            if rep is not None:
                rep.errors.append(f"{_FIELD_NAMES.get(parts[-1], err.field)}：{err.message}")


_FIELD_NAMES = {"text": "答案", "quotes": "原文引用", "seed": "来源文件", "examples": "相似问题", "title": "标准问题",
                "as_of": "截至日期", "review_by": "复查日期", "category": "分类", "id": "话题编号", "dept": "部门"}


def new_id(title: str, taken: set) -> str:
    """A topic id from its title's pinyin: lower-case letters, digits and hyphens, unique."""
    # Imported here: pypinyin's phrase dictionaries cost 0.2-0.4 s and 50 MB, and only an import needs them.
    from pypinyin import lazy_pinyin
    syllables = [re.sub(r"[^a-z0-9]", "", s.lower()) for s in lazy_pinyin(title)]
    base = "-".join(s for s in syllables if s)[:48].strip("-") or "topic"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def plan_topics(raws: list[dict], draft: dict, seeds, mode: str = "overwrite") -> Plan:
    """An import of whole topics (the intents/ YAML format), matched by id; one report row per topic,
    numbered in file order."""
    topics = copy.deepcopy(draft["topics"])
    at = {t["id"]: i for i, t in enumerate(topics)}
    reports, made, created = [], [], []
    for n, raw in enumerate(raws, start=1):
        rep = RowReport(n, raw["title"], "、".join(raw.get("answers", {})))
        reports.append(rep)
        old = topics[at[raw["id"]]] if raw["id"] in at else None
        if old is not None and mode == "skip":
            rep.status = "skipped"
            continue
        new = topic_to_raw_dict(raw)
        if old is None:
            rep.status, at[raw["id"]] = "new", len(topics)
            topics.append(new)
            created.append(raw["id"])
        elif old != new:
            rep.status, topics[at[raw["id"]]] = "changed", new
        if old != new:
            made.append(new)
    if made:
        kn = knowledge_from(seeds, {"topics": topics, "headers": draft.get("headers") or {}})
        for t in made:
            rep = next(r for r, raw in zip(reports, raws) if raw["id"] == t["id"])
            rep.errors += [f"{e.field}：{e.message}" for e in
                           (field_error(f, texts_of(kn.topic(t["id"]))) for f in check.findings_for(kn, t["id"]))]
    for rep in reports:
        if rep.errors:
            rep.status = "error"
    return Plan(reports, [], made, created)
