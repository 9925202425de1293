"""Files of assignments and submissions on disk: under `<data_dir>/assignments/`, each written to a
temporary name while it arrives and renamed once whole and checked. Types are told by content
(filetype), never by the name or the browser's word; plain text must be UTF-8."""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import filetype

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 10
"""Files one submission (or one assignment) holds."""
MAX_FILENAME = 200
ALLOWED = {
    "pdf", "jpg", "png", "gif", "webp", "heic", "bmp",
    "mp3", "m4a", "ogg", "wav", "aac", "flac", "mp4", "m4v", "webm", "mov", "3gp",
    "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf",
}


@dataclass(frozen=True)
class StoredFile:
    key: str
    name: str
    mime: str
    size: int


def folder(data_dir: Path) -> Path:
    path = data_dir / "assignments"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(data_dir: Path, key: str) -> Path:
    if not key or "/" in key or "\\" in key or key.startswith("."):
        raise ValueError("bad file key")
    return data_dir / "assignments" / key


def new_partial(data_dir: Path) -> Path:
    return folder(data_dir) / f".{secrets.token_hex(12)}.part"


def clean_name(raw: str | None) -> str:
    """A file name as plain text, without folders or control characters, at most MAX_FILENAME."""
    raw = raw or ""
    if raw.isascii() and re.search(r"%[0-9A-Fa-f]{2}", raw):
        # Percent-encoded by the sender (HTTP clients do; browsers for a quote mark).
        raw = unquote(raw, errors="replace")
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    return name[:MAX_FILENAME] or "tep"


def sniff(head: bytes) -> str | None:
    """The MIME type of an accepted file from its first bytes; None when not accepted."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime if kind.extension in ALLOWED else None
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte letter cut at the end of the sniffed bytes is still text.
        if exc.start < len(head) - 3:
            return None
    return "text/plain"


def keep(data_dir: Path, partial: Path, name: str, mime: str, size: int) -> StoredFile:
    """Give a checked upload its final name."""
    key = secrets.token_hex(16)
    partial.replace(path_of(data_dir, key))
    return StoredFile(key=key, name=name, mime=mime, size=size)


def remove(data_dir: Path, keys: list[str]) -> None:
    for key in keys:
        try:
            path_of(data_dir, key).unlink(missing_ok=True)
        except ValueError:
            continue
