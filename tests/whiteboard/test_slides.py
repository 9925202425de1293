"""Converting slides: each PDF page becomes a 1600 px wide PNG showing what the page shows, an image
becomes one page, and hostile files are refused with a code, before anything big is decoded."""
from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.whiteboard.slide_files import (BLUE, RED, THREE_PAGES, WHITE, PdfPage, image_bytes, make_pdf,
                                          png_bomb)
from whiteboard.slides import (MAX_HEIGHT, MAX_PAGES, MIN_HEIGHT, SLIDE_WIDTH, SlideError, convert, image_size,
                               slide_page_path, sniff)

BGR = {"red": (0, 0, 255), "green": (0, 255, 0), "blue": (255, 0, 0), "yellow": (0, 255, 255),
       "white": (255, 255, 255)}


def colour(image: np.ndarray, x: int, y: int) -> str:
    """The named colour nearest to the pixel at (x, y)."""
    pixel = image[y, x].astype(int)
    return min(BGR, key=lambda name: int(np.abs(pixel - np.array(BGR[name])).sum()))


def run(kind: str, data: bytes, tmp_path: Path, name: str = "upload") -> tuple[list[int], list[str]]:
    source = tmp_path / name
    source.write_bytes(data)
    lines: list[str] = []
    heights = convert(kind, source, tmp_path / "out", lines.append)  # type: ignore[arg-type]
    return heights, lines


def test_each_pdf_page_becomes_a_png_showing_its_content(tmp_path: Path) -> None:
    heights, lines = run("pdf", make_pdf(THREE_PAGES), tmp_path)
    assert heights == [900, 2264, 1600]  # 1600 wide, the page's aspect
    assert lines == ["pages 3", "page 1 900", "page 2 2264", "page 3 1600"]
    pages = [cv2.imread(str(tmp_path / "out" / f"{i}.png")) for i in (1, 2, 3)]
    assert [p.shape for p in pages] == [(900, 1600, 3), (2264, 1600, 3), (1600, 1600, 3)]
    first, second, third = pages
    assert colour(first, 200, 200) == "blue" and colour(first, 1200, 200) == "red"  # blue square top left
    assert colour(first, 200, 700) == "red" and colour(first, 1200, 700) == "red"
    assert colour(second, 800, 1000) == "green" and colour(second, 800, 2200) == "yellow"  # band at the bottom
    assert colour(third, 400, 800) == "white" and colour(third, 1200, 800) == "blue"  # right half blue
    assert not list((tmp_path / "out").glob("*.part"))  # written under a temporary name, then renamed


def test_a_rotated_page_is_shown_upright(tmp_path: Path) -> None:
    # 400 x 300, turned 90° clockwise when shown: 300 x 400; its bottom-left corner goes to the top left
    heights, _ = run("pdf", make_pdf([PdfPage(400, 300, WHITE, (0, 0, 100, 100), RED, rotate=90)]), tmp_path)
    assert heights == [round(1600 * 400 / 300)]
    page = cv2.imread(str(tmp_path / "out" / "1.png"))
    assert colour(page, 100, 100) == "red" and colour(page, 1500, 2000) == "white"


def test_the_page_image_path() -> None:
    assert slide_page_path(Path("/data"), 7, 3) == Path("/data/slides/7/3.png")


def test_a_png_becomes_one_page_with_transparency_over_white(tmp_path: Path) -> None:
    image = np.zeros((300, 400, 4), np.uint8)
    image[:, :200] = (255, 0, 0, 255)  # opaque blue left half, transparent right half
    heights, lines = run("image", image_bytes(image, ".png"), tmp_path)
    assert heights == [1200] and lines == ["pages 1", "page 1 1200"]
    page = cv2.imread(str(tmp_path / "out" / "1.png"))
    assert page.shape == (1200, 1600, 3)
    assert colour(page, 400, 600) == "blue" and colour(page, 1200, 600) == "white"


def test_a_jpeg_and_a_grey_16_bit_png_become_pages(tmp_path: Path) -> None:
    photo = np.full((200, 100, 3), (0, 0, 255), np.uint8)
    heights, _ = run("image", image_bytes(photo, ".jpg"), tmp_path, "a.jpg")
    assert heights == [3200]
    page = cv2.imread(str(tmp_path / "out" / "1.png"))
    assert colour(page, 800, 1600) == "red"
    grey = np.full((90, 160), 65535, np.uint16)
    heights, _ = run("image", image_bytes(grey, ".png"), tmp_path, "b.png")
    assert heights == [900] and colour(cv2.imread(str(tmp_path / "out" / "1.png")), 5, 5) == "white"


def test_extreme_aspects_are_kept_inside_the_page_limits(tmp_path: Path) -> None:
    tall = np.full((10000, 100, 3), (255, 0, 0), np.uint8)  # 1:100
    heights, _ = run("image", image_bytes(tall, ".png"), tmp_path)
    assert heights == [MAX_HEIGHT]
    page = cv2.imread(str(tmp_path / "out" / "1.png"))
    assert page.shape == (MAX_HEIGHT, SLIDE_WIDTH, 3)
    assert colour(page, 800, 1600) == "blue" and colour(page, 100, 1600) == "white"  # centred, not stretched
    wide = np.full((10, 4000, 3), (255, 0, 0), np.uint8)
    heights, _ = run("image", image_bytes(wide, ".png"), tmp_path)
    assert heights == [MIN_HEIGHT]
    page = cv2.imread(str(tmp_path / "out" / "1.png"))
    assert colour(page, 800, MIN_HEIGHT // 2) == "blue" and colour(page, 800, 2) == "white"


def test_image_sizes_are_read_from_the_header(tmp_path: Path) -> None:
    assert image_size(image_bytes(np.zeros((30, 70, 3), np.uint8), ".png")) == (70, 30)
    jpeg = image_bytes(np.zeros((30, 70, 3), np.uint8), ".jpg")
    exif = b"\xff\xe1" + struct.pack(">H", 2 + 5000) + b"Exif\x00" + b"\x00" * 4995  # a big segment first
    assert image_size(jpeg[:2] + exif + jpeg[2:]) == (70, 30)
    assert image_size(png_bomb(123_456, 7)) == (123_456, 7)
    with pytest.raises(SlideError) as caught:
        image_size(b"\xff\xd8\xff\xe0\x00")  # cut short
    assert caught.value.code == "bad_file"


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = png_bomb()  # 10 gigapixels declared in a few hundred bytes
    assert len(bomb) < 1000
    with pytest.raises(SlideError) as caught:
        run("image", bomb, tmp_path)
    assert caught.value.code == "image_too_large"
    assert not list((tmp_path / "out").iterdir())


def test_too_many_pages_are_refused_before_rendering(tmp_path: Path) -> None:
    page = PdfPage(100, 100, WHITE, (0, 0, 10, 10), BLUE)
    with pytest.raises(SlideError) as caught:
        run("pdf", make_pdf([page] * (MAX_PAGES + 1)), tmp_path)
    assert caught.value.code == "too_many_pages" and "200" in str(caught.value)
    assert not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize("data", [make_pdf(THREE_PAGES)[:300], b"%PDF-1.7\n" + bytes(range(256)) * 40, b"%PDF-"])
def test_a_broken_pdf_is_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(SlideError) as caught:
        run("pdf", data, tmp_path)
    assert caught.value.code == "bad_file"


def test_a_broken_image_is_refused(tmp_path: Path) -> None:
    png = image_bytes(np.zeros((50, 50, 3), np.uint8), ".png")
    with pytest.raises(SlideError) as caught:
        run("image", png[:40], tmp_path)
    assert caught.value.code == "bad_file"


def test_what_files_say_they_are() -> None:
    assert sniff(make_pdf(THREE_PAGES)) == "pdf"
    assert sniff(b"\xef\xbb\xbf%PDF-1.4") == "pdf"  # a little junk first
    assert sniff(image_bytes(np.zeros((5, 5, 3), np.uint8), ".png")) == "png"
    assert sniff(image_bytes(np.zeros((5, 5, 3), np.uint8), ".jpg")) == "jpeg"
    assert sniff(b"<html><script>") is None and sniff(b"") is None


def test_the_conversion_process_reports_pages_and_refusals(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(make_pdf(THREE_PAGES))
    (tmp_path / "b.png").write_bytes(png_bomb())
    ok = subprocess.run([sys.executable, "-m", "whiteboard.slides", "pdf", str(tmp_path / "a.pdf"),
                         str(tmp_path / "out")], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split("\n") == ["pages 3", "page 1 900", "page 2 2264", "page 3 1600", "done", ""]
    refused = subprocess.run([sys.executable, "-m", "whiteboard.slides", "image", str(tmp_path / "b.png"),
                              str(tmp_path / "out2")], capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and refused.stdout == "error image_too_large\n"
