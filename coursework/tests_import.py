"""Questions imported from a sheet (CSV in UTF-8, or XLSX): one question a row, columns kind, text,
option1..option10, correct, points. `correct` names options by their numbers from 1 ("1;3"),
Đúng/Sai for true_false, the text of a short answer or the number. A bad row is refused by its
row number and nothing is imported."""
from __future__ import annotations

import base64
import binascii
import csv
import io
import zipfile
from typing import Any

from openpyxl import load_workbook
from pydantic import ValidationError

from coursework.tests_grading import MAX_OPTIONS, TRUE_FALSE, QuestionIn
from school.errors import InvalidField

MAX_ROWS = 500
KIND_NAMES = {"single": "single", "một lựa chọn": "single",
              "multiple": "multiple", "nhiều lựa chọn": "multiple",
              "true_false": "true_false", "đúng/sai": "true_false", "short": "short", "trả lời ngắn": "short",
              "number": "number", "số": "number", "essay": "essay", "tự luận": "essay"}


def _rows(fmt: str, content: str) -> list[list[str]]:
    if fmt == "csv":
        return [list(r) for r in csv.reader(io.StringIO(content.lstrip("\ufeff")))]
    try:
        raw = base64.b64decode(content, validate=True)
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (binascii.Error, ValueError, zipfile.BadZipFile, KeyError, OSError):
        raise InvalidField("content", "an XLSX file (base64)", reason="test_sheet_unreadable") from None
    sheet = book.worksheets[0]
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def _row_question(cells: dict[str, str]) -> QuestionIn:
    kind = KIND_NAMES.get(cells.get("kind", "").strip().lower(), cells.get("kind", "").strip())
    options = [cells[f"option{i}"].strip() for i in range(1, MAX_OPTIONS + 1) if cells.get(f"option{i}", "").strip()]
    raw = cells.get("correct", "").strip()
    correct: Any = None
    if kind in ("single", "multiple"):
        correct = [int(part) - 1 for part in raw.replace(",", ";").split(";") if part.strip()]
    elif kind == "true_false":
        options = list(TRUE_FALSE)
        correct = [0] if raw.lower() in ("đúng", "true", "1") else [1] if raw.lower() in ("sai", "false", "0") else []
    elif kind == "short":
        correct = raw
    elif kind == "number":
        correct = float(raw.replace(",", "."))
    points = float(cells.get("points", "").strip().replace(",", ".") or 1)
    return QuestionIn.model_validate({"kind": kind, "text": cells.get("text", ""), "options": options,
                                      "correct": correct, "points": points})


def read_sheet(fmt: str, content: str) -> list[QuestionIn]:
    rows = [r for r in _rows(fmt, content) if any(c.strip() for c in r)]
    if not rows:
        raise InvalidField("content", "no rows", reason="test_sheet_empty")
    header = [h.strip().lower() for h in rows[0]]
    if "kind" not in header or "text" not in header:
        raise InvalidField("content", "the first row names the columns kind, text, ...", reason="test_sheet_header")
    if len(rows) - 1 > MAX_ROWS:
        raise InvalidField("content", f"at most {MAX_ROWS} questions", reason="test_sheet_too_many_rows",
                           params={"max": MAX_ROWS})
    out = []
    for number, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, row, strict=False))
        try:
            out.append(_row_question(cells))
        except (ValidationError, ValueError):
            raise InvalidField("content", f"row {number} is not a valid question", reason="test_sheet_bad_row",
                               params={"row": number}) from None
    return out
