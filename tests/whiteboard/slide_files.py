"""Files teachers upload, made in the tests: PDFs written by hand (solid pages with a rectangle
of another colour), PNGs and JPEGs, and hostile ones."""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class PdfPage:
    width: float
    height: float
    background: tuple[float, float, float]
    """RGB 0..1 filling the page."""
    rect: tuple[float, float, float, float]
    """x, y (from the page's bottom left, PDF units), width, height of a rectangle..."""
    color: tuple[float, float, float]
    """...in this RGB colour."""
    rotate: int = 0


def make_pdf(pages: list[PdfPage]) -> bytes:
    """A valid PDF (with a correct cross-reference table) of these pages."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for i, page in enumerate(pages):
        x, y, w, h = page.rect
        r, g, b = page.background
        content = (f"{r} {g} {b} rg 0 0 {page.width} {page.height} re f\n"
                   f"{page.color[0]} {page.color[1]} {page.color[2]} rg {x} {y} {w} {h} re f\n").encode()
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page.width} {page.height}] /Rotate {page.rotate} "
                       f"/Resources << >> /Contents {4 + 2 * i} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


RED, GREEN, BLUE, WHITE, YELLOW = (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1), (1, 1, 0)
THREE_PAGES = [
    # 16:9, red with a blue square in the top left quarter
    PdfPage(800, 450, RED, (0, 225, 400, 225), BLUE),
    # A4 portrait, green with a yellow band at the bottom
    PdfPage(595, 842, GREEN, (0, 0, 595, 100), YELLOW),
    # white, a blue rectangle in the right half
    PdfPage(600, 600, WHITE, (300, 0, 300, 600), BLUE),
]


def image_bytes(image: np.ndarray, ext: str) -> bytes:
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG declaring width x height pixels in a few hundred bytes (its data: a few zero rows)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    rows = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
