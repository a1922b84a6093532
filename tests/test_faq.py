"""Export and import in the formats staff use, through the real API and the CLI."""
from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import openpyxl

from bot.knowledge.load import load
from bot.knowledge.sheets import COLUMNS, MAX_BYTES, formula_safe, read, to_csv, to_xlsx
from bot.knowledge.transfer import rows_of
from bot.settings import ROOT

from .admin_helpers import *  # noqa: F403
from .admin_helpers import audit_of

HEADER = ",".join(COLUMNS)
BUS_QUOTE = "我们采用阶梯票价、分段计费的方式,基础票价2元,最高票价8元,出行费用同比降低了50%"
Q = '"' + BUS_QUOTE + '"'          # the quote has commas: a CSV cell in quotes


async def export(c, fmt: str) -> bytes:
    resp = await c.call("GET", f"faq/export?format={fmt}")
    assert resp.status == 200, await resp.text()
    return await resp.read()


async def send(c, verb: str, data: bytes, name: str, mode: str = "overwrite", status: int = 200) -> dict:
    resp = await _raw(c, verb, data, name, mode)
    body = await resp.json()
    assert resp.status == status, (resp.status, body)
    return body


async def _raw(c, verb, data, name, mode):
    h = {"Cookie": f"citizen_admin={c.cookie}", "Origin": c.origin, "X-CSRF-Token": c.csrf,
         "Content-Type": "application/octet-stream"}
    c.client.session.cookie_jar.clear()
    return await c.client.post(f"/api/admin/faq/{verb}?name={name}&mode={mode}", data=data, headers=h)


def test_cli_yaml_export_is_byte_identical_to_intents(tmp_path, redis_server):
    env = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": "faq-cli", "PATH": "/usr/bin:/bin"}
    out = tmp_path / "intents"
    done = subprocess.run([sys.executable, "-m", "bot", "faq", "export", "--format", "yaml", str(out)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    theirs = sorted(p.name for p in (ROOT / "intents").glob("*.yaml"))
    assert sorted(p.name for p in out.iterdir()) == theirs
    for name in theirs:
        assert (out / name).read_bytes() == (ROOT / "intents" / name).read_bytes(), name
    again = subprocess.run([sys.executable, "-m", "bot", "faq", "import", str(out), "--dry-run"],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "修改0" in again.stdout and "新增0" in again.stdout


def test_cli_dry_run_prints_the_report_and_fails_on_errors(tmp_path, redis_server):
    env = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": "faq-cli2", "PATH": "/usr/bin:/bin"}
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\n城乡公交票价,,平泉,平泉公交基础票价3元。,{Q},,,\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bot", "faq", "import", str(bad), "--dry-run"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "第2行 城乡公交票价 平泉：有错误；答案：答案中的“3元”不在引用原文中" in done.stdout


async def test_api_yaml_export_holds_the_intents_files(admin_client, signed_in, staff):
    data = await export(await signed_in("viewer"), "yaml")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for path in (ROOT / "intents").glob("*.yaml"):
            assert z.read(f"intents/{path.name}") == path.read_bytes()
    assert [e["after"]["format"] for e in await audit_of(staff, "faq.export")] == ["yaml"]


async def test_xlsx_and_csv_round_trip_unchanged(admin_client, signed_in, staff):
    editor = await signed_in("editor")
    for fmt in ("xlsx", "csv"):
        data = await export(editor, fmt)
        report = await send(editor, "preview", data, f"faq.{fmt}")
        assert report["ok"] and report["written"] is False
        assert report["counts"] == {"new": 0, "changed": 0, "unchanged": 283, "skipped": 0, "errors": 0,
                                    "blank_rows": 0}
        done = await send(editor, "import", data, f"faq.{fmt}")
        assert done["written"] and done["topics"] == 0
    assert (await editor.json("GET", "draft/changes"))["changes"] == []
    assert len(await audit_of(staff, "faq.import")) == 2


async def test_gb18030_csv_from_a_spreadsheet_with_blank_rows_and_columns(admin_client, signed_in):
    editor = await signed_in("editor")
    rows = [HEADER + ",,",
            "公交卡怎么办理,,平泉,平泉城乡公交实行阶梯票价、分段计费，基础票价2元，最高票价8元。,"
            f"{Q},000_ff720f5e860dd746.txt,交通出行,,,",
            ",,,,,,,,,", "城乡公交票价,,平泉," + '"平泉城乡公交实行阶梯票价、分段计费，基础票价2元，最高票价8元。"'
            f",{Q},,,,,", ",,,,,,,,,", ""]
    data = "\r\n".join(rows).encode("gb18030")
    report = await send(editor, "preview", data, "wps.csv")
    assert report["counts"]["blank_rows"] == 2
    assert [(r["row"], r["title"], r["status"]) for r in report["rows"]] == [
        (2, "公交卡怎么办理", "error"), (4, "城乡公交票价", "changed")]
    assert report["rows"][0]["errors"] == ["相似问题：相似问法至少要5个，现在只有0个"]
    await send(editor, "import", data, "wps.csv", status=422)
    assert (await editor.json("GET", "draft/changes"))["changes"] == []        # nothing was written


async def test_a_file_with_bad_rows_gets_its_exact_report_and_nothing_is_written(admin_client, signed_in, staff):
    editor = await signed_in("editor")
    lines = [HEADER,
             f"城乡公交票价,,平泉,平泉公交基础票价3元。,{Q},,,",          # a figure not in the quote
             f",,定州,定州的答案。,{Q},,,",                               # no title (merged?)
             f"城乡公交票价,,北京,北京的答案。,{Q},,,",                    # no briefing for 北京
             f"城乡公交票价,,平泉,又一行。,{Q},,,",                        # 平泉 twice
             "城乡公交票价,,宁德,,,,,"]                                            # no answer
    report = await send(editor, "preview", "\n".join(lines).encode("utf-8-sig"), "bad.csv")
    assert report["ok"] is False
    assert [(r["row"], r["city"], r["status"], r["errors"]) for r in report["rows"]] == [
        (2, "平泉", "error", ["答案：答案中的“3元”不在引用原文中"]),
        (3, "定州", "error", ["“标准问题”为空（如果是合并单元格，请取消合并并在每一行填写）"]),
        (4, "北京", "error", ["“北京”不是已有简报的城市（平泉、定州、驻马店、宁德、寿光）"]),
        (5, "平泉", "error", ["城市“平泉”与第2行重复：同一标准问题每个城市只能有一行"]),
        (6, "宁德", "error", ["“答案”为空"]),
    ]
    failed = await send(editor, "import", "\n".join(lines).encode(), "bad.csv", status=422)
    assert failed["written"] is False and failed["ok"] is False
    assert (await editor.json("GET", "draft/changes"))["changes"] == []
    assert [e["result"] for e in await audit_of(staff, "faq.import")] == ["rejected"]


async def test_skip_mode_leaves_existing_topics_alone(admin_client, signed_in):
    editor = await signed_in("editor")
    line = f"城乡公交票价,,平泉,平泉公交基础票价2元。,{Q},,,"
    report = await send(editor, "preview", f"{HEADER}\n{line}".encode(), "s.csv", mode="skip")
    assert report["ok"] and report["rows"][0]["status"] == "skipped"


async def test_merged_cells_in_xlsx_are_reported(admin_client, signed_in):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append(["城乡公交票价", "", "平泉", "平泉公交基础票价2元，最高票价8元。", BUS_QUOTE, "", "", ""])
    sheet.append([None, "", "定州", "定州的答案。", "", "", "", ""])
    sheet.merge_cells("A2:A3")
    out = io.BytesIO()
    book.save(out)
    report = await send(await signed_in("editor"), "preview", out.getvalue(), "merged.xlsx")
    assert report["problems"] == ["合并单元格 A2:A3：请取消合并，并在每一行填写完整"]
    assert report["rows"][1]["errors"] == ["“标准问题”为空（如果是合并单元格，请取消合并并在每一行填写）"]


async def test_limits_are_stated_and_enforced(admin_client, signed_in):
    editor = await signed_in("editor")
    limits = await editor.json("GET", "faq/limits")
    assert (limits["max_rows"], limits["max_bytes"]) == (5000, MAX_BYTES) and "5000行" in limits["note"]
    too_big = await _raw(editor, "preview", b"a" * (MAX_BYTES + 1), "big.csv", "overwrite")
    assert too_big.status == 413


def test_exported_cells_are_safe_from_formula_injection_and_read_back_exactly():
    rows = rows_of(load(ROOT))[:2]
    rows[0] = {**rows[0], COLUMNS[0]: "=HYPERLINK(\"http://evil\")", COLUMNS[3]: "-1+2", COLUMNS[1]: "@SUM(A1)\n+x",
               COLUMNS[6]: "'=already"}
    assert formula_safe("=1") == "'=1" and formula_safe("'=1") == "''=1" and formula_safe("平泉") == "平泉"
    csv_text = to_csv(rows).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "'-1+2" in csv_text and "''=already" in csv_text
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(rows)))
    cells = [c for row in book.active.iter_rows(min_row=2) for c in row]
    assert all(c.value is None or c.data_type == "s" and not c.value.startswith(("=", "+", "-", "@"))
               for c in cells)
    for data, name in ((to_csv(rows), "x.csv"), (to_xlsx(rows), "x.xlsx")):
        back = [r for _, r in read(data, name).rows]
        assert back[0][COLUMNS[0]] == rows[0][COLUMNS[0]] and back[0][COLUMNS[6]] == "'=already"
        assert back[0][COLUMNS[1]] == "@SUM(A1)\n+x" and back[1] == rows[1]
