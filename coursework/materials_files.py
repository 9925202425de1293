"""What a material's file may be (checked by its content, never by the name or the browser's word),
its file name as plain text, and the byte ranges a reader asks for."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

import filetype

from coursework.materials_models import MAX_FILE_NAME

ALLOWED = {
    # documents
    "pdf": "application/pdf", "rtf": "application/rtf",
    "doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation", "epub": "application/epub+zip",
    # images
    "jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
    # audio
    "mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg", "wav": "audio/wav", "aac": "audio/aac",
    "flac": "audio/flac",
    # video
    "mp4": "video/mp4", "m4v": "video/mp4", "webm": "video/webm", "mov": "video/quicktime",
}
TEXT_EXTENSIONS = ("txt", "csv", "md")
INLINE = ("application/pdf", "image/", "audio/", "video/", "text/plain")
"""Opened in the browser (the rest is downloaded)."""
HEAD = 8192


def sniff(head: bytes, file_name: str) -> str | None:
    """The MIME type of an allowed file from its first bytes, or None when it is not allowed."""
    kind = filetype.guess(head)
    if kind is not None:
        return ALLOWED.get(kind.extension)
    # Plain text has no signature: a .txt/.csv/.md name and UTF-8 without NUL or other binary bytes.
    if file_name.rsplit(".", 1)[-1].lower() not in TEXT_EXTENSIONS or b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut at the end of the head
            return None
        text = head[:exc.start].decode("utf-8")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\f" for ch in text):
        return None
    return "text/plain"


def clean_name(raw: str | None, fallback: str = "hoc-lieu") -> str:
    """A file name as plain text: no folders, no control characters, at most MAX_FILE_NAME characters.
    Percent escapes are decoded (browsers and HTTP clients escape quotes and non-ASCII that way)."""
    name = unicodedata.normalize("NFC", unquote(raw or "", errors="replace")).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")).strip()
    if len(name) > MAX_FILE_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_FILE_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) < 10 else name[:MAX_FILE_NAME]
    return name or fallback


RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class BadRange(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (start, end) inclusive of a single-range `Range` header; None for the whole file (no
    header, or one this server does not serve partially, such as several ranges). BadRange when the
    range lies outside the file (416)."""
    if not header:
        return None
    found = RANGE.match(header.strip())
    if found is None:
        return None
    first, last = found.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            raise BadRange(header)
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or end < start:
        raise BadRange(header)
    return start, end
