"""Tables downloaded as CSV or XLSX (attendance, chat, poll results, participation): one header row,
then rows. Text a person typed never runs as a formula in a spreadsheet."""
from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote

from aiohttp import web
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A cell as written: text that a spreadsheet would read as a formula is quoted with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export(header: list[str], rows: list[list[object]], fmt: str, filename: str, title: str) -> web.Response:
    """`rows` under `header` as a `fmt` ("csv" or "xlsx") download named `filename`.`fmt`."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "export"
    printable = "".join(ch for ch in filename if ch.isprintable())
    disposition = f"attachment; filename=\"{ascii_name}.{fmt}\"; filename*=UTF-8''{quote(printable, safe='')}.{fmt}"
    safe = [[_cell(value) for value in row] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(safe)
        # A byte-order mark so spreadsheet programs read the Vietnamese letters as UTF-8.
        return web.Response(body=("\ufeff" + buffer.getvalue()).encode(), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": disposition})
    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\\/?*\[\]:\x00-\x1f\x7f]", "_", title)[:31] or "Sheet"
    sheet.append(header)
    for row in safe:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return web.Response(body=out.getvalue(), content_type=XLSX, headers={"Content-Disposition": disposition})
