"""Export and import of the knowledge in the formats staff use: intents/ YAML, XLSX, CSV.

Used by the admin API (bot/admin/faq.py) and `citizen-bot faq export|import`. An import is planned
first (`plan_file`: per row new/changed/unchanged and its errors, nothing written) and written only by
`apply`, all topics in one write of the draft or none.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import yaml

from bot.knowledge.dump import files, topic_from_dict, topic_to_raw
from bot.knowledge.load import load_topics, shape_problems, topic_from_raw
from bot.knowledge.schema import Knowledge, KnowledgeError
from bot.knowledge.sheets import MAX_BYTES, MAX_ROWS, SheetError, read, to_csv, to_xlsx
from bot.knowledge.transfer import Plan, plan, plan_topics, rows_of
from bot.knowledge.versions import Versions

FORMATS = ("yaml", "xlsx", "csv")
LIMITS = {"max_rows": MAX_ROWS, "max_bytes": MAX_BYTES,
          "note": f"每次最多导入{MAX_ROWS}行、文件不超过{MAX_BYTES // 1024 // 1024}MB"}


def export_bytes(kn: Knowledge, fmt: str) -> bytes:
    """The file for `fmt`; YAML is a zip of the intents/ files (write_yaml writes them to a folder)."""
    if fmt == "csv":
        return to_csv(rows_of(kn))
    if fmt == "xlsx":
        return to_xlsx(rows_of(kn))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files(kn).items():
            z.writestr(f"intents/{name}", text)
    return out.getvalue()


def write_yaml(kn: Knowledge, folder: Path) -> list[Path]:
    from bot.knowledge.dump import dump
    return dump(kn, folder)


def format_of(name: str, data: bytes = b"") -> str:
    lower = name.lower()
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return "xlsx"
    return "csv"


def plan_file(data: bytes, name: str, draft: dict, seeds, mode: str = "overwrite") -> Plan:
    try:
        if format_of(name, data) == "yaml":
            return plan_topics(_yaml_topics(data), draft, seeds, mode)
        return plan(read(data, name), draft, seeds, mode)
    except (SheetError, KnowledgeError) as exc:
        return Plan([], str(exc).split("\n"), [], [])


def plan_folder(folder: Path, draft: dict, seeds, mode: str = "overwrite") -> Plan:
    """An intents/ folder: its topics by id (file and comments kept)."""
    try:
        topics, _ = load_topics(folder)
    except KnowledgeError as exc:
        return Plan([], exc.problems, [], [])
    return plan_topics([topic_to_raw(t) for t in topics], draft, seeds, mode)


def _yaml_topics(data: bytes) -> list[dict]:
    if len(data) > MAX_BYTES:
        raise SheetError(f"文件太大：最大{MAX_BYTES // 1024 // 1024}MB")
    try:
        entries = yaml.safe_load(data.decode("utf-8-sig")) or []
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SheetError(f"不是有效的UTF-8 YAML：{exc}") from None
    entries = entries if isinstance(entries, list) else [entries]
    if len(entries) > MAX_ROWS:
        raise SheetError(f"话题太多：最多{MAX_ROWS}个")
    problems = [p for i, e in enumerate(entries) for p in shape_problems(e, f"第{i + 1}个话题")]
    if problems:
        raise KnowledgeError(problems)
    return [topic_to_raw(topic_from_raw(e, "staff.yaml")) for e in entries]


async def apply(versions: Versions, p: Plan, actor: str) -> list[str]:
    """Write a plan with no errors into the draft, all or nothing; returns the errors that stopped it."""
    if not p.ok:
        return ["导入有错误，未写入任何内容"]
    errors = await versions.save_topics([topic_to_raw(topic_from_dict(t)) for t in p.topics], actor)
    return [f"{e.field}：{e.message}" for e in errors]
