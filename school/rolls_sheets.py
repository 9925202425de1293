"""Reading the rolls' spreadsheets (XLSX, or CSV in UTF-8 with or without a byte-order mark):
the first row holds the headers (Vietnamese, or their English aliases), each later row one person,
class or assignment. Only the cells are read here; what they mean is checked in school.rolls."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from school.errors import InvalidField

Kind = Literal["students", "teachers", "classes", "assignments"]
KINDS: tuple[Kind, ...] = ("students", "teachers", "classes", "assignments")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
MAX_COLUMNS = 30
MAX_UNZIPPED = 40 * 1024 * 1024
"""An XLSX is a zip: one that unpacks to more than this is refused before it is parsed."""


@dataclass(frozen=True)
class Column:
    key: str
    """The column's name in the API (`values` keys, `problems[].column`)."""
    header: str
    """The header written on export (Vietnamese)."""
    english: str
    aliases: tuple[str, ...]
    required: bool = True


COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "students": (
        Column("full_name", "Họ và tên", "Full name", ("ho va ten", "ho ten", "full name", "name", "student")),
        Column("class_name", "Lớp", "Class", ("lop", "class", "class name", "ten lop")),
        Column("username", "Tên đăng nhập", "Username", ("ten dang nhap", "username", "login"), required=False),
        Column("birth_date", "Ngày sinh", "Date of birth",
               ("ngay sinh", "date of birth", "birth date", "birthday", "dob"), required=False),
    ),
    "teachers": (
        Column("full_name", "Họ và tên", "Full name", ("ho va ten", "ho ten", "full name", "name", "teacher")),
        Column("username", "Tên đăng nhập", "Username", ("ten dang nhap", "username", "login"), required=False),
        Column("team", "Tổ chuyên môn", "Subject team",
               ("to chuyen mon", "to", "subject team", "team", "department"), required=False),
    ),
    "classes": (
        Column("name", "Tên lớp", "Class", ("ten lop", "lop", "class", "class name", "name")),
        Column("grade", "Khối", "Grade", ("khoi", "grade", "level")),
        Column("homeroom_teacher", "GVCN", "Homeroom teacher",
               ("gvcn", "giao vien chu nhiem", "homeroom teacher", "homeroom", "form teacher"), required=False),
    ),
    "assignments": (
        Column("class_name", "Lớp", "Class", ("lop", "class", "class name", "ten lop")),
        Column("subject", "Môn", "Subject", ("mon", "mon hoc", "subject")),
        Column("teacher", "Giáo viên", "Teacher", ("giao vien", "gv", "teacher", "teacher username")),
    ),
}
IGNORED_HEADERS = frozenset({"stt", "tt", "so thu tu", "no", "#", "ghi chu", "note", "notes"})
"""A running number or a note column is common in school sheets; it is read past, never stored."""


def fold(text: str) -> str:
    """Lower case without accents or extra spaces: 'Ngữ  Văn' and 'ngu van' compare equal."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join(text.lower().split())


def _header_key(text: str) -> str:
    """A header as compared: folded, with its '(optional)' / '(username)' remark left out."""
    return fold(re.sub(r"\([^)]*\)", " ", text)).strip(" :*")


@dataclass
class Sheet:
    columns: dict[str, int]
    """Column key -> index in each row."""
    rows: list[tuple[int, list[str]]]
    """(spreadsheet row number, cells as text) of each non-empty data row."""


def bad_file(reason: str, message: str, **params: object) -> InvalidField:
    return InvalidField("file", message, reason=reason, params=params)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date() if not (value.hour or value.minute or value.second) else value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return unicodedata.normalize("NFC", text).strip()


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
                raise bad_file("rolls_bad_file", "the workbook unpacks to too much data")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except InvalidField:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise bad_file("rolls_bad_file", "not a readable XLSX workbook") from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return []
        rows = []
        for row in sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS, values_only=True):
            rows.append([_text(v) for v in row])
        return rows
    except Exception as exc:
        raise bad_file("rolls_bad_file", "not a readable XLSX workbook") from exc
    finally:
        book.close()


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad_file("rolls_bad_encoding", "a CSV file must be saved as UTF-8") from exc
    if "\x00" in text:
        raise bad_file("rolls_bad_file", "the file holds NUL characters")
    first = text.split("\n", 1)[0]
    delimiter = max((";", "\t", ","), key=first.count) if any(d in first for d in ";\t,") else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = []
        for row in reader:
            rows.append([_text(v) for v in row[:MAX_COLUMNS]])
            if len(rows) > MAX_ROWS + 2:
                break
        return rows
    except csv.Error as exc:
        raise bad_file("rolls_bad_file", "not a readable CSV file") from exc


def read_sheet(kind: Kind, data: bytes, filename: str = "") -> Sheet:
    """The header and rows of an uploaded file (CPU work: run it in a thread)."""
    if not data:
        raise bad_file("rolls_empty", "the file is empty")
    if len(data) > MAX_BYTES:
        raise bad_file("rolls_file_too_large", "the file is too large", max_mb=MAX_BYTES // (1024 * 1024))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise bad_file("rolls_old_excel", "save the workbook as .xlsx (Excel 97–2003 files are not read)")
    raw = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    lines = [(number, cells) for number, cells in enumerate(raw, start=1) if any(cells)]
    if not lines:
        raise bad_file("rolls_empty", "the file is empty")
    header_row, header = lines[0]
    columns: dict[str, int] = {}
    known = {alias: column for column in COLUMNS[kind] for alias in (column.aliases + (fold(column.header),))}
    for index, title in enumerate(header):
        key = _header_key(title)
        if not key or key in IGNORED_HEADERS:
            continue
        column = known.get(key)
        if column is None:
            raise bad_file("rolls_unknown_column", "unknown column", column=title[:60])
        if column.key in columns:
            raise bad_file("rolls_repeated_column", "a column appears twice", column=title[:60])
        columns[column.key] = index
    missing = [c.header for c in COLUMNS[kind] if c.required and c.key not in columns]
    if missing:
        raise bad_file("rolls_missing_column", "a required column is missing", column=", ".join(missing))
    rows = [(number, cells) for number, cells in lines[1:]]
    if not rows:
        raise bad_file("rolls_no_rows", "the file has headers but no rows")
    if len(rows) > MAX_ROWS:
        raise bad_file("rolls_too_many_rows", "too many rows", max=MAX_ROWS)
    del header_row
    return Sheet(columns=columns, rows=rows)
