"""Tables downloaded as CSV or XLSX (attendance, chat, poll results, participation): one header row,
then rows. Text a person typed never runs as a formula in a spreadsheet.

`export` builds a small table in memory; a report that may be large (a school's statistics) writes
it with `table_file` in a worker thread and streams it with `send_file`, so the event loop, which
also forwards the lessons' media, never builds a workbook."""
from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from aiohttp import web
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024
"""Bytes of a file sent per write."""


def _cell(value: object) -> object:
    """A cell as written: text that a spreadsheet would read as a formula is quoted with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _disposition(filename: str, fmt: str) -> str:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "export"
    printable = "".join(ch for ch in filename if ch.isprintable())
    return f"attachment; filename=\"{ascii_name}.{fmt}\"; filename*=UTF-8''{quote(printable, safe='')}.{fmt}"


def _write(header: list[str], rows: list[list[object]], fmt: str, title: str, out: BinaryIO) -> None:
    safe = [[_cell(value) for value in row] for row in rows]
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        # A byte-order mark so spreadsheet programs read the Vietnamese letters as UTF-8.
        text.write("\ufeff")
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(safe)
        text.flush()
        text.detach()  # `out` stays open for the caller
        return
    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\\/?*\[\]:\x00-\x1f\x7f]", "_", title)[:31] or "Sheet"
    sheet.append(header)
    for row in safe:
        sheet.append(row)
    book.save(out)


def _content_type(fmt: str) -> dict[str, str]:
    return {"Content-Type": "text/csv; charset=utf-8" if fmt == "csv" else XLSX}


def export(header: list[str], rows: list[list[object]], fmt: str, filename: str, title: str) -> web.Response:
    """`rows` under `header` as a `fmt` ("csv" or "xlsx") download named `filename`.`fmt`."""
    out = io.BytesIO()
    _write(header, rows, fmt, title, out)
    return web.Response(body=out.getvalue(), headers={**_content_type(fmt),
                                                      "Content-Disposition": _disposition(filename, fmt)})


def table_file(header: list[str], rows: list[list[object]], fmt: str, title: str, directory: Path) -> BinaryIO:
    """The file `export` would send, written to an anonymous temporary file in `directory` (it is
    gone once closed) and rewound. Blocking: call it in a worker thread."""
    directory.mkdir(parents=True, exist_ok=True)
    handle = tempfile.TemporaryFile(dir=directory)
    try:
        _write(header, rows, fmt, title, handle)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle


async def send_file(request: web.Request, handle: BinaryIO, fmt: str, filename: str) -> web.StreamResponse:
    """Stream a `table_file` to the client, read a piece at a time in worker threads; closes it."""
    with handle:
        size = os.fstat(handle.fileno()).st_size
        response = web.StreamResponse(headers={**_content_type(fmt), "Content-Length": str(size),
                                               "Content-Disposition": _disposition(filename, fmt)})
        await response.prepare(request)
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response
