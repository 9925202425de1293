"""A PDF of page images, one image filling each page: written directly (PDF 1.4, a few objects per
page), so it needs no library and can run in any thread. Pages of plain drawing are stored losslessly
(Flate: mostly white, they compress well); pages showing photographs or slides as JPEG."""
from __future__ import annotations

import zlib
from collections.abc import Sequence

import cv2
import numpy as np

POINTS_WIDE = 842.0
"""Every page is as wide as A4 is long (in points); its height keeps the image's aspect."""
JPEG_QUALITY = 90


def _image_stream(pixels: np.ndarray, photo: bool) -> tuple[bytes, bytes]:
    """(dictionary entries, data) of an image XObject for BGR pixels."""
    height, width = pixels.shape[:2]
    if photo:
        ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        assert ok
        data, flt = encoded.tobytes(), b"/DCTDecode"
    else:
        data, flt = zlib.compress(np.ascontiguousarray(pixels[:, :, ::-1]).tobytes(), 6), b"/FlateDecode"
    head = (b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
            b"/Filter %s /Length %d" % (width, height, flt, len(data)))
    return head, data


def pages_pdf(pages: Sequence[tuple[np.ndarray, bool]], title: str | None = None) -> bytes:
    """A PDF with one page per (BGR pixels, is a photo) of `pages`, each image filling its page."""
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")
    tree = add(b"")
    kids = []
    for pixels, photo in pages:
        height, width = pixels.shape[:2]
        w_pt, h_pt = POINTS_WIDE, POINTS_WIDE * height / width
        head, data = _image_stream(pixels, photo)
        image = add(b"<< " + head + b" >>\nstream\n" + data + b"\nendstream")
        drawing = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (w_pt, h_pt)
        content = add(b"<< /Length %d >>\nstream\n" % len(drawing) + drawing + b"\nendstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject "
                        b"<< /Im0 %d 0 R >> >> /Contents %d 0 R >>" % (tree, w_pt, h_pt, image, content)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                         + b"] /Count %d >>" % len(kids))
    info = add(b"<< /Title " + _text(title) + b" /Producer (lophoc) >>") if title else None

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info is not None:
        out += b" /Info %d 0 R" % info
    out += b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _text(value: str) -> bytes:
    """A PDF text string in UTF-16 (any Vietnamese title), written as hex."""
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode() + b">"
