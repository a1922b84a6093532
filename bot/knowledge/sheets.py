"""The spreadsheet format staff use: one row per city-answer, in XLSX or CSV, with these columns:

  标准问题 | 相似问题（一行一个） | 城市 | 答案 | 原文引用（一行一个） | 来源文件 | 分类 | 截至日期

Export and import use the same columns, so an export re-imports unchanged. A cell a spreadsheet would
run as a formula (leading = + - @, tab or CR) is written with a leading apostrophe, which the import
takes off again. Reading copes with UTF-8 with or without BOM and GB18030/GBK (as Excel and WPS save
CSV), blank rows and trailing blank columns; XLSX is read with openpyxl in read-only mode, and openpyxl
parses through defusedxml (installed with it, checked below). Limits: MAX_BYTES and MAX_ROWS.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

COLUMNS = ("标准问题", "相似问题（一行一个）", "城市", "答案", "原文引用（一行一个）", "来源文件", "分类", "截至日期")
REQUIRED = ("标准问题", "城市", "答案")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_UNZIPPED = 50 * 1024 * 1024
FORMULA = ("=", "+", "-", "@", "\t", "\r")
# a header as people retype it: "相似问题", "相似问题(一行一个)", " 城市 " all name their column
_HEADER_NOISE = re.compile(r"[（(].*?[)）]|\s|\ufeff")


class SheetError(ValueError):
    """The file cannot be read at all (format, encoding, size); the message says why, in Chinese."""


@dataclass
class Sheet:
    """Rows as {column: text} with their spreadsheet row numbers (the header is row `header_row`)."""
    rows: list[tuple[int, dict[str, str]]]
    problems: list[str] = field(default_factory=list)      # file-level: missing columns, merged cells
    blank_rows: int = 0


# ------------------------------------------------------------------------------------------ cells

def formula_safe(text: str) -> str:
    """What a cell holds in an export: text a spreadsheet would run gets a leading apostrophe."""
    return "'" + text if _needs_escape(text) else text


def _needs_escape(text: str) -> bool:
    return text.startswith(FORMULA) or (text.startswith("'") and _needs_escape(text[1:]))


def unescape(text: str) -> str:
    return text[1:] if text.startswith("'") and _needs_escape(text[1:]) else text


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unescape(str(value).replace("\r\n", "\n").strip())


def lines_of(cell: str) -> list[str]:
    return [line.strip() for line in cell.split("\n") if line.strip()]


# ----------------------------------------------------------------------------------------- writing

def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([formula_safe(row.get(c, "")) for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")       # the BOM: Excel then reads UTF-8


def to_xlsx(rows: list[dict[str, str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = "问答"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([formula_safe(row.get(c, "")) for c in COLUMNS])
    for column, width in zip("ABCDEFGH", (24, 36, 8, 60, 60, 26, 16, 12)):
        sheet.column_dimensions[column].width = width
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.data_type = "s"             # text, never a formula, whatever it starts with
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ----------------------------------------------------------------------------------------- reading

def read(data: bytes, name: str = "") -> Sheet:
    if len(data) > MAX_BYTES:
        raise SheetError(f"文件太大：最大{MAX_BYTES // 1024 // 1024}MB")
    if data[:4] == b"PK\x03\x04" or name.lower().endswith(".xlsx"):
        return _table(_xlsx_rows(data), _merged(data))
    return _table(_csv_rows(_decode(data)), [])


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError("无法识别文件编码：请另存为UTF-8或GBK编码的CSV")


def _csv_rows(text: str) -> list[list]:
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise SheetError(f"CSV格式有误：{exc}") from None


def _xlsx_rows(data: bytes) -> list[list]:
    import openpyxl
    import openpyxl.xml
    if not openpyxl.xml.DEFUSEDXML:            # never parse an uploaded workbook without defusedxml
        raise SheetError("服务器缺少defusedxml，拒绝解析XLSX")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_UNZIPPED:
                raise SheetError("XLSX解压后过大，拒绝处理")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        if isinstance(exc, SheetError):
            raise
        raise SheetError("不是有效的XLSX文件（请用Excel或WPS另存为.xlsx）") from None
    try:
        rows = []
        for row in book.worksheets[0].iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 50:
                break
        return rows
    finally:
        book.close()


def _merged(data: bytes) -> list[str]:
    """Merged ranges of the first sheet (read-only openpyxl does not expose them), e.g. ["A2:A4"]."""
    from defusedxml import ElementTree
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            name = "xl/worksheets/sheet1.xml"
            if name not in z.namelist():
                return []
            with z.open(name) as f:
                return [el.get("ref") for _, el in ElementTree.iterparse(f) if el.tag.endswith("}mergeCell")]
    except (zipfile.BadZipFile, ElementTree.ParseError):
        return []


def _table(raw: list[list], merged: list[str]) -> Sheet:
    """Rows under the header, by column name; blank rows skipped and counted."""
    cells = [[_cell_text(v) for v in row] for row in raw]
    start = next((i for i, row in enumerate(cells) if any(row)), None)
    if start is None:
        raise SheetError("文件里没有内容")
    header = [_HEADER_NOISE.sub("", h) for h in cells[start]]
    where = {name: header.index(_HEADER_NOISE.sub("", name)) for name in COLUMNS
             if _HEADER_NOISE.sub("", name) in header}
    sheet = Sheet(rows=[])
    missing = [c for c in REQUIRED if c not in where]
    if missing:
        sheet.problems.append(f"第{start + 1}行（表头）缺少列：{'、'.join(missing)}。表头应为：{'，'.join(COLUMNS)}")
        return sheet
    sheet.problems += [f"合并单元格 {ref}：请取消合并，并在每一行填写完整" for ref in merged]
    for number, row in enumerate(cells[start + 1:], start=start + 2):
        if not any(row):
            sheet.blank_rows += 1
            continue
        sheet.rows.append((number, {c: row[i] if i < len(row) else "" for c, i in where.items()}))
    if len(sheet.rows) > MAX_ROWS:
        raise SheetError(f"行数太多：最多{MAX_ROWS}行，本文件有{len(sheet.rows)}行以上")
    return sheet
