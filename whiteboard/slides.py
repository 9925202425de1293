"""Slides for the board: an uploaded PDF, PNG or JPEG turned into page images in board space.

Every page image is `SLIDE_WIDTH` (1600) pixels wide and as tall as the page's aspect makes it
(at most `MAX_HEIGHT`, at least `MIN_HEIGHT`); content that would not fit that frame is scaled
down and centred on white, never stretched. Images are checked against `MAX_PIXELS` from their
header before anything is decoded (a tiny file may declare a huge picture); a PDF may have at
most `MAX_PAGES` pages.

The conversion runs in its own process (`python -m whiteboard.slides KIND SOURCE OUT_DIR`), with
limits on memory and CPU time, so a hostile file can only fail its own conversion. It reports on
stdout, one line each: `pages N`, then `page I HEIGHT` as page I is written, then `done`, or
`error CODE` for a file it refuses. Each page is written under a temporary name and renamed: a
page file that exists is whole."""
from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

SLIDE_WIDTH = 1600
"""The board's page width: every page image has it."""
MAX_HEIGHT = 3200
MIN_HEIGHT = 90
MAX_BYTES = 30 * 1024 * 1024
"""An upload is at most this long."""
MAX_PAGES = 200
MAX_PIXELS = 40_000_000
"""An uploaded image may have at most this many pixels (checked before decoding)."""
TIMEOUT_S = 120
"""A conversion taking longer than this is stopped and the slide failed."""
MEMORY_LIMIT = 2 * 1024 ** 3
"""Address space a conversion process may use."""
KINDS = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image"}
"""Accepted content types and the slide kind each gives."""

Kind = Literal["pdf", "image"]
ERRORS = {
    "too_many_pages": "Tệp có quá nhiều trang (tối đa 200) / too many pages (at most 200)",
    "image_too_large": "Ảnh quá lớn (tối đa 40 megapixel) / the image is too large (at most 40 megapixels)",
    "password_protected": "Tệp PDF có mật khẩu / the PDF is password-protected",
    "bad_file": "Không đọc được tệp (hỏng hoặc sai định dạng) / the file could not be read",
    "empty": "Tệp không có trang nào / the file has no pages",
    "timeout": "Chuyển đổi quá lâu nên đã dừng / the conversion took too long",
    "too_complex": "Tệp quá phức tạp để chuyển đổi / the file is too complex to convert",
    "interrupted": "Máy chủ dừng khi đang chuyển đổi, hãy tải lên lại / the server stopped; upload again",
}
"""Why a slide failed: its `error` code and the words shown for it (Vietnamese / English)."""


class SlideError(Exception):
    """A file that is refused: `code` is one of ERRORS."""

    def __init__(self, code: str) -> None:
        super().__init__(ERRORS[code])
        self.code = code


def slide_dir(data_dir: Path, slide_id: int) -> Path:
    return data_dir / "slides" / str(slide_id)


def slide_page_path(data_dir: Path, slide_id: int, index: int) -> Path:
    """The PNG of a slide's page; `index` is the page number from 1 (as in the page's URL)."""
    return slide_dir(data_dir, slide_id) / f"{index}.png"


def upload_path(data_dir: Path, slide_id: int) -> Path:
    """Where an upload waits for its conversion (deleted when it is done)."""
    return data_dir / "slides" / "incoming" / f"{slide_id}.upload"


def sniff(head: bytes) -> Literal["pdf", "png", "jpeg"] | None:
    """What the first bytes of a file say it is."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if b"%PDF-" in head[:1024]:  # readers accept a little junk before the header
        return "pdf"
    return None


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) an image declares in its header, read without decoding it."""
    kind = sniff(data)
    if kind == "png":
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise SlideError("bad_file")
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if kind != "jpeg":
        raise SlideError("bad_file")
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise SlideError("bad_file")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # no length
            at += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan before any frame header
            break
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        if marker in _SOF:
            if at + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        at += 2 + length
    raise SlideError("bad_file")


def page_height(width: float, height: float) -> int:
    """A page's height in board pixels for a source of this size (its aspect, within limits)."""
    if not (width > 0 and height > 0) or not np.isfinite(width) or not np.isfinite(height):
        raise SlideError("bad_file")
    return int(min(MAX_HEIGHT, max(MIN_HEIGHT, round(SLIDE_WIDTH * height / width))))


def fit(image: np.ndarray, height: int) -> np.ndarray:
    """`image` (BGR) scaled to fit SLIDE_WIDTH x height, keeping its aspect, centred on white."""
    h, w = image.shape[:2]
    scale = min(SLIDE_WIDTH / w, height / h)
    size = (max(1, min(SLIDE_WIDTH, round(w * scale))), max(1, min(height, round(h * scale))))
    if size != (w, h):
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if size == (SLIDE_WIDTH, height):
        return np.ascontiguousarray(image)
    canvas = np.full((height, SLIDE_WIDTH, 3), 255, np.uint8)
    top, left = (height - size[1]) // 2, (SLIDE_WIDTH - size[0]) // 2
    canvas[top:top + size[1], left:left + size[0]] = image
    return canvas


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Any decoded image (grey, 16-bit, with alpha) as 8-bit BGR, transparency over white."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise SlideError("bad_file")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        return (image[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    if image.shape[2] == 3:
        return image
    if image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    raise SlideError("bad_file")


def write_png(image: np.ndarray, path: Path) -> None:
    """Write whole or not at all: a temporary name, flushed, then renamed."""
    # Run-length strategy: as small as the default for slides and photos, many times faster on photos.
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 6,
                                               cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE])
    if not ok:
        raise SlideError("bad_file")
    partial = path.with_name(path.name + ".part")
    with open(partial, "wb") as handle:
        handle.write(encoded.tobytes())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


Report = Callable[[str], None]


def convert_image(source: Path, out_dir: Path, report: Report) -> list[int]:
    data = source.read_bytes()
    width, height = image_size(data)
    if width <= 0 or height <= 0:
        raise SlideError("bad_file")
    if width * height > MAX_PIXELS:
        raise SlideError("image_too_large")
    report("pages 1")
    flags = cv2.IMREAD_COLOR if sniff(data) == "jpeg" else cv2.IMREAD_UNCHANGED  # JPEG: EXIF orientation applied
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if decoded is None or decoded.size == 0:
        raise SlideError("bad_file")
    image = to_bgr(decoded)
    h = page_height(image.shape[1], image.shape[0])
    write_png(fit(image, h), out_dir / "1.png")
    report(f"page 1 {h}")
    return [h]


def convert_pdf(source: Path, out_dir: Path, report: Report) -> list[int]:
    import pypdfium2 as pdfium  # only the conversion process loads PDFium

    try:
        document = pdfium.PdfDocument(str(source))
    except pdfium.PdfiumError as exc:
        raise SlideError("password_protected" if exc.err_code == 4 else "bad_file") from exc
    try:
        count = len(document)
        if count == 0:
            raise SlideError("empty")
        if count > MAX_PAGES:
            raise SlideError("too_many_pages")
        report(f"pages {count}")
        heights = []
        for index in range(count):
            page = document[index]
            try:
                width, height = page.get_size()
                h = page_height(width, height)
                scale = min(SLIDE_WIDTH / width, h / height)
                bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255), may_draw_forms=False)
                pixels = bitmap.to_numpy()
                image = fit(to_bgr(pixels), h)
            except pdfium.PdfiumError as exc:
                raise SlideError("bad_file") from exc
            finally:
                page.close()
            write_png(image, out_dir / f"{index + 1}.png")
            heights.append(h)
            report(f"page {index + 1} {h}")
        return heights
    finally:
        document.close()


def convert(kind: Kind, source: Path, out_dir: Path, report: Report) -> list[int]:
    """Write the page images of `source` into `out_dir` (1.png, 2.png...); returns their heights."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if kind == "pdf":
        return convert_pdf(source, out_dir, report)
    return convert_image(source, out_dir, report)


def _limit_resources() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    cpu = TIMEOUT_S + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    cv2.setNumThreads(1)


def main(argv: list[str]) -> int:
    """The conversion process: `python -m whiteboard.slides KIND SOURCE OUT_DIR`."""
    kind, source, out_dir = argv
    if kind not in ("pdf", "image"):
        print("usage: python -m whiteboard.slides pdf|image SOURCE OUT_DIR", file=sys.stderr)
        return 64
    _limit_resources()

    def report(line: str) -> None:
        print(line, flush=True)

    try:
        convert(kind, Path(source), Path(out_dir), report)  # type: ignore[arg-type]
    except SlideError as exc:
        report(f"error {exc.code}")
        return 2
    except MemoryError:
        report("error too_complex")
        return 2
    report("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
