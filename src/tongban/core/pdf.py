"""A small CJK PDF layer for every printed paper of tongban: decision documents, licences, reports.

What it offers:

    font_path() -> str                 the regular CJK font file PDFs are set in
    cjk_fonts() -> CjkFonts            regular, bold (or None) and fallback faces, resolved once
    cjk_pdf(*, title, created, ...)    an A4 ``CjkPdf`` with GB/T 9704 margins, fonts loaded,
                                       page numbers "— n —", fixed metadata
    CjkPdf.use(size, bold=..., color=...)  pick the CJK face at a size (points)
    CjkPdf.paragraph(text, ...)        flow text with Chinese line-breaking rules, page breaks
    CjkPdf.wrap(text, width)           the line breaker alone, for tables and custom layouts
    CjkPdf.text_cell(w, h, text)       one line (use it instead of ``cell`` so fake bold works)
    CjkPdf.rule(), .sign_off(), .qr()  red separator line, issuer + date block, vector QR code
    CjkPdf.unprintable(text) -> str    characters no installed face can print (check before rendering)
    CjkPdf.to_bytes() -> bytes

Why fpdf2 with a TrueType font: fpdf2 (pure Python) embeds a glyph subset of any TrueType or
OpenType font, so the PDF shows on machines without Chinese fonts. Debian's Noto CJK is CFF-based;
fpdf2 embeds it too, but through a custom encoding CMap that common extractors (pypdf) read
byte by byte, which garbles text once a document uses more than 255 distinct characters. A
TrueType face goes out as Identity-H + CIDToGIDMap, which every viewer and extractor reads, so
copy and search work everywhere. LXGW WenKai (fonts-lxgw-wenkai, a 楷体 face with a real bold
and all 20,902 base CJK ideographs) is the default; it is the closest free face to the 仿宋/楷体
of GB/T 9704 papers. Other installed CJK faces serve as fallbacks for rare characters.

Output is deterministic: equal input gives equal bytes (creation date from the document's own
date, content-derived file id, fixed subset tags), so a document can be hashed and audited.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from fontTools.ttLib import TTCollection, TTFont
from fpdf import FPDF

# fontTools warns on every subset of a font carrying bitmap tables (WenQuanYi); nothing is lost.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

FONT_PACKAGE = "fonts-lxgw-wenkai"

# --- fonts ---------------------------------------------------------------------------------------


class PdfFontMissing(ImproperlyConfigured):
    """No usable CJK font: an operator must install one; no user input can fix it."""


@dataclass(frozen=True)
class FontFace:
    path: str
    index: int = 0  # face number inside a .ttc/.otc collection


@dataclass(frozen=True)
class CjkFonts:
    regular: FontFace
    bold: FontFace | None  # None: bold is drawn by stroking the regular face
    fallbacks: tuple[FontFace, ...] = ()


# Debian paths, best first: (package, regular, bold). TrueType faces come before Noto CJK (CFF)
# for the extraction reason in the module docstring; Noto stays as a last resort for rendering.
KNOWN_FONTS: tuple[tuple[str, str, str | None], ...] = (
    (
        "fonts-lxgw-wenkai",
        "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf",
        "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Bold.ttf",
    ),
    ("fonts-wqy-zenhei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", None),
    ("fonts-arphic-uming", "/usr/share/fonts/truetype/arphic/uming.ttc", None),
    (
        "fonts-noto-cjk",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    ),
    (
        "fonts-noto-cjk",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    ),
)

# A face must print these to be taken for Chinese documents.
_PROBE = "决定书准予不予行政许可申请人办件编号〔〕（）：，。"
# In a collection, the simplified-Chinese face is the one whose name says so.
_SIMPLIFIED_MARKS = (" SC", " CN", " GB", "Zen Hei")


def font_path() -> str:
    """The regular CJK font file PDFs are set in (see ``cjk_fonts`` for how it is chosen)."""
    return cjk_fonts().regular.path


def cjk_fonts() -> CjkFonts:
    """The faces to set PDFs in: settings.TONGBAN_PDF_FONT, else known Debian paths, else fc-match.

    Raises PdfFontMissing naming the Debian package to install when nothing usable is found.
    """
    return _resolve_fonts(getattr(settings, "TONGBAN_PDF_FONT", None) or None)


@functools.lru_cache(maxsize=4)
def _resolve_fonts(override: str | None) -> CjkFonts:
    installed = [
        (FontFace(regular, _face_index(regular)), FontFace(bold, _face_index(bold)) if bold else None)
        for _package, regular, bold in KNOWN_FONTS
        if Path(regular).is_file() and (bold is None or Path(bold).is_file())
    ]
    installed = [(reg, bold) for reg, bold in installed if _prints(reg, _PROBE)]
    fallbacks = tuple(dict.fromkeys(reg for reg, _bold in installed))
    if override:
        # An explicit setting that does not work is a configuration error, not a reason to guess.
        path = Path(override)
        if not path.is_file():
            raise PdfFontMissing(f"TONGBAN_PDF_FONT names {override}, which is not a file.")
        face = FontFace(str(path), _face_index(str(path)))
        if not _prints(face, _PROBE):
            raise PdfFontMissing(f"TONGBAN_PDF_FONT names {override}, which cannot print Chinese.")
        return CjkFonts(face, None, tuple(f for f in fallbacks if f != face))
    if installed:
        regular, bold = installed[0]
        return CjkFonts(regular, bold, tuple(f for f in fallbacks if f != regular))
    found = _fc_match()
    if found:
        return CjkFonts(found, None, ())
    raise PdfFontMissing(
        f"No Chinese font for PDFs. Install the Debian package {FONT_PACKAGE} "
        f"(bash scripts/system-deps.sh fonts) or set TONGBAN_PDF_FONT to a .ttf/.ttc file."
    )


def _fc_match() -> FontFace | None:
    """Ask fontconfig for a Chinese face, TrueType outlines first (see the module docstring)."""
    fc_match = shutil.which("fc-match")
    if not fc_match:
        return None
    for pattern in (":lang=zh-cn:fontformat=TrueType", ":lang=zh-cn"):
        try:
            out = subprocess.run(  # noqa: S603 - fixed arguments, no user input
                [fc_match, "-f", "%{file}\n%{index}\n", pattern],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout.split("\n")
        except (OSError, subprocess.SubprocessError):
            return None
        if len(out) >= 2 and out[0] and Path(out[0]).suffix.lower() in {".ttf", ".ttc", ".otf", ".otc"}:
            face = FontFace(out[0], int(out[1] or 0))
            if _prints(face, _PROBE):
                return face
    return None


def _face_index(path: str) -> int:
    if Path(path).suffix.lower() not in {".ttc", ".otc"}:
        return 0
    collection = TTCollection(path, lazy=True)
    try:
        names = [font["name"].getDebugName(4) or "" for font in collection.fonts]
    finally:
        collection.close()
    for mark in _SIMPLIFIED_MARKS:
        for i, name in enumerate(names):
            if mark in name and "Mono" not in name:
                return i
    return 0


@functools.lru_cache(maxsize=16)
def _codepoints(face: FontFace) -> frozenset[int]:
    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
    except Exception:  # any unreadable file is simply not a usable face
        return frozenset()
    try:
        return frozenset((font.getBestCmap() or {}).keys())
    finally:
        font.close()


def _prints(face: FontFace, text: str) -> bool:
    cmap = _codepoints(face)
    return all(ord(ch) in cmap for ch in text)


# --- the PDF layer -------------------------------------------------------------------------------

# GB/T 9704-2012: A4, top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; type area 156 × 225 mm
# holding 22 lines of 28 characters in 3号 (16 pt).
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 37.0, 35.0, 28.0, 26.0
SIZE_2HAO, SIZE_3HAO, SIZE_4HAO, SIZE_SMALL4 = 22.0, 16.0, 14.0, 12.0
LINE_3HAO = 225.0 / 22  # mm
RED = (204, 0, 0)
BLACK = (0, 0, 0)
_FAMILY, _FALLBACK = "cjk", "cjkfb"

# Chinese line breaking (禁则): these may not start a line (they hang in the margin instead) ...
_NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…—·％,.;:?!)]}%")
# ... and these may not end one (they move down to the next line).
_NO_LINE_END = frozenset("（《「『【〔〈“‘([{")
_TOKENS = re.compile(r"[!-~]+|.", re.S)  # ASCII words (numbers, URLs) stay whole where they fit


class CjkPdf(FPDF):
    """An FPDF document with CJK faces loaded and helpers for GB/T 9704-style papers."""

    def __init__(self, fonts: CjkFonts, *, page_numbers: bool = True):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.fonts_used = fonts
        self.page_numbers = page_numbers
        self.set_margins(MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT)
        self.set_auto_page_break(True, MARGIN_BOTTOM)
        self.c_margin = 0
        self.add_font(_FAMILY, "", fonts.regular.path, collection_font_number=fonts.regular.index)
        bold = fonts.bold or fonts.regular
        self.add_font(_FAMILY, "B", bold.path, collection_font_number=bold.index)
        self._fallbacks: dict[FontFace, str] = {}
        self._fake_bold = False

    # fonts

    def use(self, size: float, *, bold: bool = False, color: tuple[int, int, int] = BLACK) -> None:
        """Set the CJK face at ``size`` points; bold is stroked when there is no bold face."""
        self.set_font(_FAMILY, "B" if bold else "", size)
        self.set_text_color(*color)
        self._fake_bold = bold and self.fonts_used.bold is None
        if self._fake_bold:
            # Stroke outlines about 3 % of the em wide in the text colour (set through fpdf2 so
            # its record of the graphics state stays true).
            self.set_draw_color(*color)
            self.set_line_width(size * 0.03 / self.k)

    def text_cell(self, w: float, h: float, text: str) -> None:
        """``cell`` that strokes the glyphs too when ``use`` asked for a bold it lacks a face for."""
        if not self._fake_bold:
            self.cell(w=w, h=h, text=text)
            return
        # fpdf2 never switches the rendering mode back to fill once set, so it is set and reset
        # here by hand, around this one cell only.
        self._out("2 Tr")
        self.cell(w=w, h=h, text=text)
        self._out("0 Tr")

    def unprintable(self, text: str) -> str:
        """The characters of ``text`` that neither the main face nor any fallback can print."""
        faces = (self.fonts_used.regular, *self.fonts_used.fallbacks)
        missing = []
        for ch in dict.fromkeys(text):
            if ch.isspace() or any(ord(ch) in _codepoints(f) for f in faces):
                continue
            missing.append(ch)
        return "".join(missing)

    def load_fallbacks_for(self, text: str) -> None:
        """Load the fallback faces that print what the main face cannot (rare names, Ext-A)."""
        regular = self.fonts_used.regular
        need = [ch for ch in dict.fromkeys(text) if not ch.isspace() and not _prints(regular, ch)]
        added = False
        for face in self.fonts_used.fallbacks:
            if face in self._fallbacks or not any(_prints(face, ch) for ch in need):
                continue
            family = f"{_FALLBACK}{len(self._fallbacks)}"
            self.add_font(family, "", face.path, collection_font_number=face.index)
            self.add_font(family, "B", face.path, collection_font_number=face.index)
            self._fallbacks[face] = family
            need = [ch for ch in need if not _prints(face, ch)]
            added = True
        if added:
            self.set_fallback_fonts(list(self._fallbacks.values()), exact_match=False)

    # text

    @property
    def text_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def wrap(self, text: str, width: float, *, first_line_width: float | None = None) -> list[str]:
        """Break one paragraph into lines of at most ``width`` mm, keeping the 禁则 rules above.

        Closing punctuation that does not fit hangs past the margin (悬挂) rather than starting a
        line; opening punctuation at the end of a line moves down with the word it opens.
        """
        lines: list[str] = []
        current: list[str] = []
        used = 0.0
        avail = width if first_line_width is None else first_line_width
        tokens = _TOKENS.findall(text)
        i = 0
        while i < len(tokens):
            token = tokens[i]
            w = self.get_string_width(token)
            if token.isspace() and not current:
                i += 1
                continue
            if used + w <= avail + 1e-6 or (not current and len(token) == 1):
                current.append(token)
                used += w
                i += 1
                continue
            if len(token) > 1 and (w > width or not current):
                tokens[i : i + 1] = list(token)  # a word longer than the line breaks anywhere
                continue
            carry: list[str] = []
            if token in _NO_LINE_START:
                if i + 1 < len(tokens) and tokens[i + 1] in _NO_LINE_START:
                    # Two closing marks (”。) would overhang too far: the word before them moves down.
                    while len(current) > 1 and current[-1] in _NO_LINE_START:
                        carry.insert(0, current.pop())
                    if len(current) > 1:
                        carry.insert(0, current.pop())
                else:
                    current.append(token)  # hang it past the margin
                    i += 1
            while len(current) > 1 and current[-1][-1] in _NO_LINE_END:
                carry.insert(0, current.pop())
            lines.append("".join(current).rstrip())
            current = carry
            used = sum(self.get_string_width(t) for t in current)
            avail = width
        if current:
            lines.append("".join(current).rstrip())
        return lines or [""]

    def paragraph(
        self,
        text: str,
        *,
        size: float = SIZE_3HAO,
        line_height: float | None = None,
        indent: float = 2,
        align: str = "justify",
        bold: bool = False,
        color: tuple[int, int, int] = BLACK,
        right_indent: float = 0,
    ) -> None:
        """Flow ``text`` (one paragraph per line of text) from the current position.

        ``indent`` and ``right_indent`` count characters of ``size``; ``align`` is "justify",
        "left", "center" or "right". Lines that reach the bottom margin continue on a new page.
        """
        self.load_fallbacks_for(text)
        self.use(size, bold=bold, color=color)
        em = size / self.k
        line_height = line_height or (LINE_3HAO if size == SIZE_3HAO else em * 1.6)
        width = self.text_width - right_indent * em
        for para in text.replace("\r\n", "\n").replace("\t", " ").split("\n"):
            lines = self.wrap(para.strip(), width, first_line_width=width - indent * em)
            for n, line in enumerate(lines):
                if self.will_page_break(line_height):
                    self.add_page()
                    self.use(size, bold=bold, color=color)
                lead = indent * em if n == 0 else 0.0
                natural = self.get_string_width(line)
                x = self.l_margin + lead
                spacing = 0.0
                if align == "center":
                    x = self.l_margin + (width - natural) / 2
                elif align == "right":
                    x = self.l_margin + width - natural
                elif align == "justify" and n < len(lines) - 1 and len(line) > 1:
                    # Spread (or, with a hanging mark, squeeze) the glyphs to meet the margin.
                    spacing = (width - lead - natural) * self.k / (len(line) - 1)
                    if not -0.2 * size <= spacing <= 0.5 * size:
                        spacing = 0.0
                self.set_x(x)
                self.set_char_spacing(spacing)
                self.text_cell(max(natural, width - lead), line_height, line)
                self.set_char_spacing(0)
                self.ln(line_height)

    def rule(self, *, color: tuple[int, int, int] = RED, width: float = 0.5, gap: float = 4) -> None:
        """A full-width separator ``gap`` mm below the current line (GB/T 9704's red line)."""
        y = self.get_y() + gap
        self.set_draw_color(*color)
        self.set_line_width(width)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_y(y + gap)

    def sign_off(self, issuer: str, date_text: str, *, size: float = SIZE_3HAO) -> None:
        """Issuer over date at the bottom right, as GB/T 9704 places them where a seal is applied.

        The date sits four characters from the right margin; the issuer is centred over it. Both
        lines stay together on one page, after one blank line.
        """
        self.load_fallbacks_for(issuer + date_text)
        self.use(size)
        em = size / self.k
        line = LINE_3HAO if size == SIZE_3HAO else em * 1.6
        if self.will_page_break(3 * line):
            self.add_page()
            self.use(size)
        else:
            self.ln(line)
        date_w = self.get_string_width(date_text)
        date_x = self.w - self.r_margin - 4 * em - date_w
        issuer_w = self.get_string_width(issuer)
        issuer_x = min(date_x + (date_w - issuer_w) / 2, self.w - self.r_margin - issuer_w)
        self.set_x(max(issuer_x, self.l_margin))
        self.cell(w=issuer_w, h=line, text=issuer)
        self.ln(line)
        self.set_x(date_x)
        self.cell(w=date_w, h=line, text=date_text)
        self.ln(line)

    def qr(self, content: str, *, x: float, y: float, size: float) -> None:
        """A QR code drawn as vector squares (no image, so output stays small and deterministic)."""
        matrix = segno.make_qr(content, error="m").matrix
        cell = size / len(matrix)
        self.set_fill_color(*BLACK)
        for r, row in enumerate(matrix):
            c = 0
            while c < len(row):
                if row[c]:
                    start = c
                    while c < len(row) and row[c]:
                        c += 1
                    self.rect(x + start * cell, y + r * cell, (c - start) * cell, cell, style="F")
                else:
                    c += 1

    def footer(self) -> None:
        """GB/T 9704 page number "— n —": 4号, 7 mm under the type area, odd pages right, even left."""
        if not self.page_numbers:
            return
        self.use(SIZE_4HAO)
        text = f"— {self.page_no()} —"
        em = SIZE_4HAO / self.k
        w = self.get_string_width(text)
        x = self.w - self.r_margin - em - w if self.page_no() % 2 else self.l_margin + em
        self.set_xy(x, self.h - MARGIN_BOTTOM + 7)
        self.cell(w=w, h=em, text=text)

    def to_bytes(self) -> bytes:
        return bytes(self.output())


def cjk_pdf(
    *,
    title: str,
    created: dt.datetime | dt.date,
    author: str = "",
    subject: str = "",
    keywords: str = "",
    page_numbers: bool = True,
) -> CjkPdf:
    """A new A4 CjkPdf with its first page added and metadata fixed, ready to write on.

    ``created`` becomes the creation date (a date means its midnight in settings.TIME_ZONE): pass
    the document's own date, never now(), so equal input renders to equal bytes.
    """
    if not isinstance(created, dt.datetime):
        created = dt.datetime.combine(created, dt.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))
    pdf = CjkPdf(cjk_fonts(), page_numbers=page_numbers)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_subject(subject)
    pdf.set_keywords(keywords)
    pdf.set_creator("tongban")
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(created)
    pdf.add_page()
    return pdf
