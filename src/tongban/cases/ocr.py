"""Reading scanned materials: page images out of an upload, and text out of the images (RapidOCR).

RapidOCR runs its ONNX models (shipped in its wheel, so nothing is fetched on a closed network) on
the CPU. Loading them takes a while, so one engine is built per process, on first use, and shared;
its threads are a setting (TONGBAN_OCR_THREADS, default 1) because a worker host scales by running
more worker processes, not by letting each one take every core.

Uploads were judged by core.files before they were stored, but this module decodes them, so it
guards itself too: an image that would decode to more than TONGBAN_OCR_MAX_PIXELS is refused before
its pixels are allocated, bytes that do not decode are an "unreadable" result, never an exception
that reaches a page, and a PDF is rendered by poppler's pdftoppm in its own process with a time
limit, at a fixed resolution capped in pixels, first pages only (TONGBAN_OCR_MAX_PAGES).
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

MAX_SIDE = 1600  # pixels; larger scans are scaled down (text stays well above the model's need)
PDF_DPI = 150
PDF_TIMEOUT = 30  # seconds per document


class Unreadable(Exception):
    """The upload could not be turned into page images; `code` says why (for the finding)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class Line:
    text: str
    score: float
    box: list  # four corner points, in the page image's pixels


@dataclass
class Page:
    lines: list[Line]
    seal: bool
    width: int
    height: int


@dataclass
class Reading:
    pages: list[Page] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def lines(self) -> list[Line]:
        return [line for page in self.pages for line in page.lines]

    @property
    def seal(self) -> bool:
        return any(page.seal for page in self.pages)


_engine = None
_engine_lock = threading.Lock()


def _threads() -> int:
    return int(getattr(settings, "TONGBAN_OCR_THREADS", 1))


def engine():
    """The process's one OCR engine, built on first use."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                import cv2
                from rapidocr_onnxruntime import RapidOCR

                threads = _threads()
                cv2.setNumThreads(threads)
                _engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
    return _engine


def _max_pixels() -> int:
    return int(getattr(settings, "TONGBAN_OCR_MAX_PIXELS", 60_000_000))


def _max_pages() -> int:
    return int(getattr(settings, "TONGBAN_OCR_MAX_PAGES", 3))


def _fit(image):
    """RGB, at most MAX_SIDE on the long side, as a numpy array in the BGR order OpenCV uses."""
    import numpy as np
    from PIL import Image

    image = image.convert("RGB")
    scale = MAX_SIDE / max(image.size)
    if scale < 1:
        image = image.resize(
            (max(1, int(image.width * scale)), max(1, int(image.height * scale))), Image.Resampling.BILINEAR
        )
    return np.asarray(image)[:, :, ::-1].copy()


def image_pages(data: bytes, kind: str) -> list:
    """Page images (BGR arrays) of a JPEG, PNG or PDF upload; Unreadable when it cannot be decoded."""
    if kind in ("jpeg", "png"):
        return [_decode_image(data)]
    if kind == "pdf":
        return _render_pdf(data)
    raise Unreadable("kind")


def _decode_image(data: bytes):
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > _max_pixels():
                raise Unreadable("too_large")
            image = ImageOps.exif_transpose(image)  # phones store the turn in EXIF, not the pixels
            image.load()
    except Unreadable:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Unreadable("too_large") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise Unreadable("damaged") from None
    return _fit(image)


def _render_pdf(data: bytes) -> list:
    """The first pages through pdftoppm: a separate process, so a hostile PDF can only waste its own
    time (killed after PDF_TIMEOUT) and memory (pages are scaled to MAX_SIDE while rendered)."""
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="tongban-ocr-") as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(data)
        command = [
            "pdftoppm",
            "-r",
            str(PDF_DPI),
            "-scale-to",
            str(MAX_SIDE),
            "-f",
            "1",
            "-l",
            str(_max_pages()),
            "-png",
            str(source),
            str(Path(tmp) / "page"),
        ]
        try:
            done = subprocess.run(  # noqa: S603 - fixed command, our own temporary paths
                command,
                capture_output=True,
                timeout=PDF_TIMEOUT,
                check=False,
                env={**os.environ, "LC_ALL": "C"},
            )
        except subprocess.TimeoutExpired:
            raise Unreadable("timeout") from None
        except FileNotFoundError:
            raise Unreadable("no_renderer") from None
        pages = sorted(Path(tmp).glob("page*.png"))
        if done.returncode != 0 and not pages:
            raise Unreadable("damaged")
        if not pages:
            raise Unreadable("empty")
        images = []
        for page in pages:
            with Image.open(page) as image:
                images.append(_fit(image))
        return images


def find_seal(page) -> bool:
    """A red round seal: a saturated red region whose outline is close to a circle of a plausible
    size (a red frame or red text is not one)."""
    import cv2
    import numpy as np

    hsv = cv2.cvtColor(page, cv2.COLOR_BGR2HSV)
    low = cv2.inRange(hsv, np.array([0, 80, 70]), np.array([12, 255, 255]))
    high = cv2.inRange(hsv, np.array([165, 80, 70]), np.array([180, 255, 255]))
    mask = cv2.morphologyEx(low | high, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    contours, _hierarchy = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    smallest = 0.03 * min(page.shape[:2])
    for contour in contours:
        _centre, radius = cv2.minEnclosingCircle(contour)
        if radius < smallest or radius > 0.45 * min(page.shape[:2]):
            continue
        _x, _y, w, h = cv2.boundingRect(contour)
        if not 0.8 <= w / max(h, 1) <= 1.25:
            continue
        if cv2.contourArea(contour) / (np.pi * radius * radius) > 0.7:
            return True
    return False


def read(data: bytes, kind: str) -> Reading:
    """Every line of text on the first pages of an upload, with its confidence, and whether a seal
    shows. Raises Unreadable."""
    started = time.perf_counter()
    pages = image_pages(data, kind)
    reading = Reading()
    ocr = engine()
    for page in pages:
        result, _elapse = ocr(page)
        lines = [
            Line(text=str(text), score=float(score), box=[list(map(float, p)) for p in box])
            for box, text, score in (result or [])
        ]
        reading.pages.append(
            Page(lines=lines, seal=find_seal(page), width=page.shape[1], height=page.shape[0])
        )
    reading.seconds = time.perf_counter() - started
    return reading
