"""Official documents laid out per GB/T 9704-2012 (党政机关公文格式), as PDF.

The page: A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm, so the type area (版心)
is 156 × 225 mm; the body is set in 3号 (16 pt) 仿宋 on a grid of 22 lines of 28 characters (a line
pitch of 225/22 mm, a character pitch of 156/28 mm). Elements sit where the standard puts them:

  版头  份号 (line 1) and 紧急程度 (line 2) at the top left, in 黑体; the red 发文机关标志 centred,
        its top 35 mm below the type area's top (80 mm for 上行文, which carry a 签发人); the
        发文字号 two lines under it (centred, or left with the 签发人 right for 上行文); the red
        separator 4 mm under the 发文字号, as wide as the type area.
  主体  标题 in 2号 小标宋, two lines under the separator; 主送机关 one line under the title; the
        text with two-character indents, headings 一、 in 黑体, （一） in 楷体, 1. and （1） in 仿宋;
        附件说明 one line under the text; 发文机关署名 centred over the 成文日期, which sits four
        characters from the right margin, leaving room above for the seal; 附注 under the date.
  版记  抄送机关 and 印发机关/印发日期 in 4号 at the foot of the last page, between a thick first and
        last rule with thin rules between them; the last rule lies on the type area's bottom edge.
  页码  4号, "— n —", 7 mm under the type area, odd pages right and even pages left, one character in.

The 信函 form (letters) has the agency's full name 30 mm from the paper's top, red double rules
at the top and 20 mm above the bottom edge, the 发文字号 at the right and no number on page one; the
命令 form (orders) has "…令" 20 mm below the type area's top, the 令号 centred two lines under it
and no separator.

Chinese line breaking (禁则): closing punctuation never starts a line and opening punctuation never
ends one. Where a closing mark would start a line, the character before it moves down with it (推出)
and the shorter line is spread to the full width; no mark hangs past the margin, so a line never
holds more than 28 characters.

Fonts: the official 方正小标宋 and 仿宋_GB2312 are proprietary. By default the free faces core.pdf
finds stand in (LXGW WenKai, a 楷体-style face, from Debian's fonts-lxgw-wenkai: regular for 仿宋 and
楷体, bold for 小标宋 and 黑体). An agency with licences points settings.TONGBAN_DOCUMENT_FONTS at
its files ({"fangsong": …, "xiaobiaosong": …, "heiti": …, "kaiti": …}); docs/documents.md.

Speed: a 15 MB CJK face costs fpdf2 most of a second to parse and fontTools seconds to subset. So
each face is first cut once to the GB 2312 repertoire plus punctuation (a working copy kept in a
cache directory, see font_cache_dir), parsed once per process, and each PDF gets a fresh copy of
the parsed metrics with its own glyph subset; characters outside GB 2312 fall back to the full faces.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import io
import os
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf.enums import TextEmphasis
from fpdf.fonts import SubsetMap, TTFFont

from tongban.core import pdf as core_pdf
from tongban.core.pdf import BLACK, RED, SIZE_2HAO, SIZE_3HAO, SIZE_4HAO, CjkFonts, CjkPdf, FontFace

from .models import UPWARD_TYPES, Document, Form

# --- the grid ------------------------------------------------------------------------------------

PAGE_W, PAGE_H = 210.0, 297.0
TOP, BOTTOM, LEFT, RIGHT = (
    core_pdf.MARGIN_TOP,
    core_pdf.MARGIN_BOTTOM,
    core_pdf.MARGIN_LEFT,
    core_pdf.MARGIN_RIGHT,
)
AREA_W, AREA_H = PAGE_W - LEFT - RIGHT, PAGE_H - TOP - BOTTOM  # 156 × 225
LINES, CHARS = 22, 28
PITCH_Y = AREA_H / LINES  # 10.227 mm
PITCH_X = AREA_W / CHARS  # 5.571 mm
MARK_TOP = 35.0  # 发文机关标志 below the type area's top (下行文)
MARK_TOP_UPWARD = 80.0  # 上行文
MARK_MAX_EM = 15.0  # mm: the mark's characters at most this high, and as wide as fit in the line
LETTER_MARK_TOP = 30.0  # from the paper's top edge
LETTER_RULE_W = 170.0
ORDER_MARK_TOP = 20.0
THICK, THIN = 0.35, 0.25  # 版记 rules (mm)
PT = 72 / 25.4  # points per mm
SEAL_MM = 42.0  # the round seal's diameter

# 禁则: may not start a line / may not end one.
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…—·％,.;:?!)]}%")
NO_LINE_END = frozenset("（《「『【〔〈“‘([{")

_HEADING_1 = re.compile(r"^[一二三四五六七八九十]+、")
_HEADING_2 = re.compile(r"^（[一二三四五六七八九十]+）")


# --- fonts ---------------------------------------------------------------------------------------

ROLES = ("fangsong", "xiaobiaosong", "heiti", "kaiti")


def document_faces() -> dict[str, FontFace]:
    """The face of each role: the agency's licensed files where settings name them, else free ones."""
    configured = getattr(settings, "TONGBAN_DOCUMENT_FONTS", None) or {}
    base = core_pdf.cjk_fonts()
    bold = base.bold or base.regular
    faces = {"fangsong": base.regular, "kaiti": base.regular, "xiaobiaosong": bold, "heiti": bold}
    for role in ROLES:
        path = configured.get(role)
        if not path:
            continue
        if not Path(path).is_file():
            raise core_pdf.PdfFontMissing(
                f"TONGBAN_DOCUMENT_FONTS[{role!r}] names {path}, which is not a file."
            )
        face = FontFace(str(path), core_pdf._face_index(str(path)))
        if not core_pdf._prints(face, "公文标题通知"):
            raise core_pdf.PdfFontMissing(
                f"TONGBAN_DOCUMENT_FONTS[{role!r}] names {path}, which cannot print Chinese."
            )
        faces[role] = face
    return faces


def _repertoire() -> list[int]:
    """GB 2312 (every character it encodes) plus ASCII and the CJK punctuation blocks."""
    points = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
    points |= set(range(0x2010, 0x2070)) | {0x00B7, 0x00D7, 0x2116, 0x2605, 0x2606}
    for code in range(0x4E00, 0xA000):
        try:
            chr(code).encode("gb2312")
        except UnicodeEncodeError:
            continue
        points.add(code)
    return sorted(points)


_cut_lock = threading.Lock()


def font_cache_dir() -> Path:
    """Where working copies are kept: settings.TONGBAN_FONT_CACHE_DIR, else the user's cache. They
    are named by their source file's path, size and time, so installations may share them."""
    configured = getattr(settings, "TONGBAN_FONT_CACHE_DIR", None)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tongban" / "fonts"


def working_copy(face: FontFace) -> FontFace:
    """The face cut to GB 2312 (made once, kept in font_cache_dir(), named by the source file)."""
    source = Path(face.path)
    stat = source.stat()
    key = hashlib.sha256(
        f"{source.resolve()}|{face.index}|{stat.st_size}|{stat.st_mtime_ns}|v2".encode()
    ).hexdigest()
    target = font_cache_dir() / f"gb2312-{key[:20]}.ttf"
    if target.is_file():
        return FontFace(str(target), 0)
    with _cut_lock:
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            font = ttLib.TTFont(str(source), fontNumber=face.index, recalcTimestamp=False)
            # Glyph names kept (post format 2): without them fontTools derives every name from the
            # cmap each time a PDF's subset is made, which costs more than the rest of the subset.
            options = ftsubset.Options(
                notdef_outline=True, recommended_glyphs=True, name_IDs=["*"], glyph_names=True
            )
            subsetter = ftsubset.Subsetter(options)
            subsetter.populate(unicodes=_repertoire())
            subsetter.subset(font)
            partial = target.with_suffix(f".{os.getpid()}.tmp")
            font.save(str(partial))
            font.close()
            os.replace(partial, target)
    return FontFace(str(target), 0)


_parse_lock = threading.Lock()


@functools.lru_cache(maxsize=16)
def _parsed(path: str, index: int) -> TTFFont:
    """fpdf2's parse of a face (metrics, cmap), done once per process; never output itself."""
    from fpdf import FPDF

    scratch = FPDF()
    scratch.add_font("scratch", "", path, collection_font_number=index)
    return scratch.fonts["scratch"]


def _fresh_font(pdf, path: str, index: int, fontkey: str, style: str) -> TTFFont:
    """A TTFFont for one PDF: the parsed metrics shared, the font file and glyph subset its own."""
    with _parse_lock:
        template = _parsed(path, index)
    font = copy.copy(template)
    font.i = len(pdf.fonts) + 1
    font.fontkey = fontkey
    font.emphasis = TextEmphasis.coerce(style)
    # fpdf2 subsets the font object in place when it writes the PDF, so each PDF opens the file
    # anew (lazily: only the tables the subset needs are read). Bounding boxes come from the file.
    font.ttfont = ttLib.TTFont(path, recalcTimestamp=False, recalcBBoxes=False, fontNumber=index, lazy=True)
    font.desc = copy.copy(template.desc)  # a PDF object: numbered when written, so one per PDF
    font.cw = copy.copy(template.cw)
    font.glyph_ids = dict(template.glyph_ids)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    return font


def _rgb(color) -> tuple[int, int, int]:
    values = getattr(color, "colors", None) or (0, 0, 0)
    if len(values) == 1:
        values = values * 3
    return tuple(round(v * 255) for v in values[:3])


class DocumentPdf(CjkPdf):
    """CjkPdf whose faces come from the per-process cache above. With `record`, every text cell,
    rule and image is also kept in `ops` as drawn (mm from the page's top left), so the OFD writer
    (documents.ofd) lays out the same page without a second layout engine."""

    def __init__(self, fonts: CjkFonts, *, first_page_number: bool = True, record: bool = False):
        self.first_page_number = first_page_number
        self.ops: list[tuple] | None = [] if record else None
        super().__init__(fonts)

    def cell(self, *args, **kwargs):
        text = kwargs.get("text", args[2] if len(args) > 2 else "")
        if self.ops is not None and text:
            h = kwargs.get("h", args[1] if len(args) > 1 else None) or self.font_size
            font = self.current_font
            advances = [self.get_string_width(ch) for ch in text]
            self.ops.append(
                (
                    "text",
                    self.page_no(),
                    self.x,
                    self.y + 0.5 * h + 0.3 * self.font_size,  # the baseline, as fpdf2 places it
                    text,
                    getattr(font, "name", ""),
                    str(getattr(font, "ttffile", "")),
                    self.font_size,
                    _rgb(self.text_color),
                    self.char_spacing / self.k,
                    advances,
                )
            )
        return super().cell(*args, **kwargs)

    def line(self, x1, y1, x2, y2):
        if self.ops is not None:
            self.ops.append(("line", self.page_no(), x1, y1, x2, y2, self.line_width, _rgb(self.draw_color)))
        return super().line(x1, y1, x2, y2)

    def image(self, name, x=None, y=None, w=0, h=0, *args, **kwargs):
        if self.ops is not None and hasattr(name, "getvalue"):
            self.ops.append(("image", self.page_no(), x, y, w, h, name.getvalue()))
        return super().image(name, x, y, w, h, *args, **kwargs)

    def add_font(self, family=None, style="", fname=None, *, collection_font_number=0, **kwargs):
        fontkey = f"{family.lower()}{style}"
        if fontkey in self.fonts:
            return
        self.fonts[fontkey] = _fresh_font(self, str(fname), collection_font_number, fontkey, style)

    def footer(self) -> None:
        if self.page_no() == 1 and not self.first_page_number:
            return
        super().footer()


# --- line breaking -------------------------------------------------------------------------------


def break_lines(text: str, capacity: float, measure) -> list[str]:
    """Lines of at most `capacity` cells (measure(ch) gives a character's width in cells), with no
    closing mark at a line's start and no opening mark at its end (推出: the character before a
    closing mark that does not fit moves down with it)."""
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for ch in text:
        w = measure(ch)
        if current and used + w > capacity + 1e-6:
            carry: list[str] = []
            if ch in NO_LINE_START:
                while len(current) > 1 and (not carry or carry[0] in NO_LINE_START):
                    carry.insert(0, current.pop())
            while len(current) > 1 and current[-1] in NO_LINE_END:
                carry.insert(0, current.pop())
            lines.append("".join(current))
            current = carry
            used = sum(measure(c) for c in current)
        current.append(ch)
        used += w
    if current or not lines:
        lines.append("".join(current))
    return lines


# --- layout --------------------------------------------------------------------------------------


@dataclass
class Placed:
    """Where an element was put: page (1-based), box in mm from the page's top left."""

    page: int
    x: float
    y: float
    w: float
    h: float


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    places: dict[str, Placed] = field(default_factory=dict)
    body_lines: list[tuple[int, int, str]] = field(default_factory=list)  # (page, grid line, text)
    ops: list[tuple] | None = None  # what was drawn, when asked for (DocumentPdf)


def chinese_date(value: dt.date) -> str:
    """成文日期 as GB/T 9704-2012 writes it: Arabic numerals, no leading zeros."""
    return f"{value.year}年{value.month}月{value.day}日"


class _Layout:
    def __init__(self, document: Document, *, seal_image: bytes | None = None, record: bool = False):
        self.doc = document
        self.seal_image = seal_image
        faces = {role: working_copy(face) for role, face in document_faces().items()}
        base = core_pdf.cjk_fonts()
        bold = [base.bold] if base.bold else []
        fallbacks = tuple(dict.fromkeys((base.regular, *bold, *base.fallbacks)))
        fonts = CjkFonts(faces["fangsong"], faces["heiti"], fallbacks)
        self.pdf = DocumentPdf(fonts, first_page_number=document.form != Form.LETTER, record=record)
        # (family, style) of each role; a face shared by two roles is loaded (and subset) once.
        families: dict[FontFace, tuple[str, str]] = {
            faces["fangsong"]: ("cjk", ""),
            faces["heiti"]: ("cjk", "B"),
        }
        self.family: dict[str, tuple[str, str]] = {}
        for role in ROLES:
            face = faces[role]
            if face not in families:
                families[face] = (f"doc{len(families)}", "")
                self.pdf.add_font(families[face][0], "", face.path, collection_font_number=face.index)
            self.family[role] = families[face]
        self._widths: dict[tuple[str, str], float] = {}
        pdf = self.pdf
        pdf.set_title(document.title)
        pdf.set_author(document.issuer_name)
        pdf.set_subject(document.number or document.ref)
        pdf.set_creator("tongban")
        pdf.set_lang("zh-CN")
        created = document.signed_at or document.created_at
        pdf.set_creation_date(created)
        pdf.set_auto_page_break(False)
        pdf.add_page()
        self.places: dict[str, Placed] = {}
        self.body_lines: list[tuple[int, int, str]] = []
        self.slot = 0  # next free grid line on the current page

    # primitives

    def font(self, role: str, size: float, color=BLACK) -> None:
        family, style = self.family[role]
        self.pdf.set_font(family, style, size)
        self.pdf.set_text_color(*color)

    def measure(self, ch: str, size: float = SIZE_3HAO) -> float:
        """A character's advance in ems of the current face (widths kept per face: fpdf2's own
        measuring costs more than the whole line breaking)."""
        font = self.pdf.current_font
        key = (font.fontkey, ch)
        width = self._widths.get(key)
        if width is None:
            code = ord(ch)
            if unicodedata.east_asian_width(ch) in ("W", "F", "A"):
                width = 1.0  # a grid cell: Chinese text and its punctuation (“” too) count one each
            else:
                width = font.cw[code] / 1000 if code in font.cmap else 1.0
            self._widths[key] = width
        return width

    def text_at(self, x: float, y: float, h: float, text: str, *, spacing_pt: float = 0.0) -> float:
        pdf = self.pdf
        pdf.load_fallbacks_for(text)
        pdf.set_char_spacing(spacing_pt)
        w = pdf.get_string_width(text)
        pdf.set_xy(x, y)
        pdf.cell(w=w, h=h, text=text)
        pdf.set_char_spacing(0)
        return w

    def place(self, name: str, x: float, y: float, w: float, h: float) -> None:
        self.places[name] = Placed(self.pdf.page_no(), x, y, w, h)

    def slot_y(self, slot: int) -> float:
        return TOP + slot * PITCH_Y

    def next_slot_after(self, y: float) -> int:
        """The first grid line whose top is at or below y."""
        slot = int((y - TOP) / PITCH_Y - 1e-6) + 1 if y > TOP else 0
        return slot

    def new_page(self) -> None:
        self.pdf.add_page()
        self.slot = 0

    def grid_line(
        self,
        text: str,
        *,
        indent: float = 0,
        justify: bool = False,
        role="fangsong",
        size=SIZE_3HAO,
        color=BLACK,
        name: str | None = None,
        align: str = "left",
        right_indent: float = 0,
    ) -> None:
        """One line of text on the next grid line (a new page when the page is full)."""
        if self.slot >= LINES:
            self.new_page()
        self.font(role, size, color)
        em = size / PT
        n = len(text)
        natural = self.pdf.get_string_width(text)
        pitch_spacing = (PITCH_X - em) * PT if size == SIZE_3HAO else 0.0
        avail = AREA_W - indent * PITCH_X - right_indent * PITCH_X
        spacing = (avail - natural) * PT / (n - 1) if justify and n > 1 else pitch_spacing
        width = natural + spacing / PT * max(n - 1, 0)
        x = LEFT + indent * PITCH_X
        if align == "center":
            x = LEFT + (AREA_W - width) / 2
        elif align == "right":
            x = LEFT + AREA_W - right_indent * PITCH_X - width
        y = self.slot_y(self.slot)
        self.text_at(x, y, PITCH_Y, text, spacing_pt=spacing)
        if name:
            self.place(name, x, y, width, PITCH_Y)
        if role in ("fangsong", "heiti", "kaiti") and size == SIZE_3HAO and name is None:
            self.body_lines.append((self.pdf.page_no(), self.slot, text))
        self.slot += 1

    def paragraph(self, text: str, *, indent: int = 2, role="fangsong") -> None:
        self.font(role, SIZE_3HAO)
        lines = break_lines(text.strip(), CHARS - indent, self.measure)
        # Later lines start at the margin (回行顶格): break the rest again at the full width.
        if len(lines) > 1:
            first = lines[0]
            rest = break_lines(text.strip()[len(first) :], CHARS, self.measure)
            lines = [first, *rest]
        for n, line in enumerate(lines):
            last = n == len(lines) - 1
            self.grid_line(line, indent=indent if n == 0 else 0, justify=not last, role=role)

    # the parts

    def header(self) -> None:
        doc, pdf = self.doc, self.pdf
        slot = 0
        if doc.copy_number:
            self.font("heiti", SIZE_3HAO)
            self.text_at(LEFT, self.slot_y(slot), PITCH_Y, doc.copy_number)
            self.place("copy_number", LEFT, self.slot_y(slot), 0, PITCH_Y)
            slot += 1
        if doc.urgency:
            self.font("heiti", SIZE_3HAO)
            text = " ".join(doc.urgency) if len(doc.urgency) == 2 else doc.urgency
            self.text_at(LEFT, self.slot_y(slot), PITCH_Y, text)
            self.place("urgency", LEFT, self.slot_y(slot), 0, PITCH_Y)
        upward = doc.doc_type in UPWARD_TYPES
        if doc.form == Form.LETTER:
            mark_top = LETTER_MARK_TOP
        elif doc.form == Form.ORDER:
            mark_top = TOP + ORDER_MARK_TOP
        else:
            mark_top = TOP + (MARK_TOP_UPWARD if upward else MARK_TOP)
        mark = doc.mark
        em = min(MARK_MAX_EM, AREA_W / max(len(mark), 1))
        self.font("xiaobiaosong", em * PT, RED)
        w = self.text_at(LEFT + (AREA_W - pdf.get_string_width(mark)) / 2, mark_top, em, mark)
        self.place("mark", LEFT + (AREA_W - w) / 2, mark_top, w, em)
        mark_bottom = mark_top + em
        number = doc.number or ""
        if doc.form == Form.LETTER:
            self.double_rule(mark_bottom + 4, thick_first=True)
            self.double_rule(PAGE_H - 20, thick_first=False)
            y = mark_bottom + 4 + PITCH_Y
            if number:
                self.font("fangsong", SIZE_3HAO)
                nw = pdf.get_string_width(number)
                x = LEFT + AREA_W - PITCH_X - nw
                self.text_at(x, y, PITCH_Y, number)
                self.place("number", x, y, nw, PITCH_Y)
            return y + PITCH_Y + PITCH_Y  # title two lines below the last element
        y = mark_bottom + 2 * PITCH_Y
        if number:
            self.font("fangsong", SIZE_3HAO)
            nw = pdf.get_string_width(number)
            if upward and doc.form == Form.DOCUMENT:
                x = LEFT + PITCH_X
                self.text_at(x, y, PITCH_Y, number)
                label = "签发人："
                names = doc.signer_names
                lw = pdf.get_string_width(label)
                self.font("kaiti", SIZE_3HAO)
                sw = pdf.get_string_width(names)
                sx = LEFT + AREA_W - PITCH_X - sw
                self.font("fangsong", SIZE_3HAO)
                self.text_at(sx - lw, y, PITCH_Y, label)
                self.font("kaiti", SIZE_3HAO)
                self.text_at(sx, y, PITCH_Y, names)
                self.place("signer", sx - lw, y, lw + sw, PITCH_Y)
            else:
                x = LEFT + (AREA_W - nw) / 2
                self.text_at(x, y, PITCH_Y, number)
            self.place("number", x, y, nw, PITCH_Y)
        glyph_bottom = y + PITCH_Y / 2 + (SIZE_3HAO / PT) / 2
        if doc.form == Form.ORDER:
            return y + 3 * PITCH_Y  # 正文 two lines under the 令号
        rule_y = glyph_bottom + 4
        pdf.set_draw_color(*RED)
        pdf.set_line_width(0.5)
        pdf.line(LEFT, rule_y, LEFT + AREA_W, rule_y)
        self.place("separator", LEFT, rule_y, AREA_W, 0)
        return rule_y + 2 * PITCH_Y - PITCH_Y / 2  # the title on the second line under the rule

    def double_rule(self, y: float, *, thick_first: bool) -> None:
        pdf = self.pdf
        x = (PAGE_W - LETTER_RULE_W) / 2
        pdf.set_draw_color(*RED)
        widths = (1.0, 0.3) if thick_first else (0.3, 1.0)
        pdf.set_line_width(widths[0])
        pdf.line(x, y, x + LETTER_RULE_W, y)
        pdf.set_line_width(widths[1])
        pdf.line(x, y + 1.2, x + LETTER_RULE_W, y + 1.2)

    def title(self, y: float) -> float:
        self.font("xiaobiaosong", SIZE_2HAO)
        em = SIZE_2HAO / PT
        lines = break_lines(self.doc.title, AREA_W / em, lambda ch: self.measure(ch, SIZE_2HAO))
        line_h = em * 1.5
        top = y
        for line in lines:
            w = self.pdf.get_string_width(line)
            self.text_at(LEFT + (AREA_W - w) / 2, y, line_h, line)
            y += line_h
        self.places["title"] = Placed(self.pdf.page_no(), LEFT, top, AREA_W, y - top)
        return y

    def body(self) -> None:
        doc = self.doc
        if doc.main_recipients:
            self.grid_line(doc.main_recipients, name="main_recipients")
        first = True
        for para in doc.body.replace("\r\n", "\n").split("\n"):
            para = para.strip()
            if not para:
                continue
            role = "heiti" if _HEADING_1.match(para) else "kaiti" if _HEADING_2.match(para) else "fangsong"
            start = (self.pdf.page_no(), self.slot)
            self.paragraph(para, role=role)
            if first:
                self.places["body"] = Placed(start[0], LEFT, self.slot_y(start[1]), AREA_W, PITCH_Y)
                first = False
        attachments = doc.attachment_list
        if attachments:
            self.slot += 1
            for n, name in enumerate(attachments, start=1):
                label = "附件：" if n == 1 else ""
                item = f"{n}．{name}" if len(attachments) > 1 else name
                self.grid_line(
                    label + item if n == 1 else item,
                    indent=2 if n == 1 else 5,
                    name="attachments" if n == 1 else None,
                )

    def sign_off(self) -> None:
        doc, pdf = self.doc, self.pdf
        date_text = chinese_date(doc.date or (doc.created_at.date()))
        # A blank line for the seal's top, then the issuer and the date, kept on one page with the
        # seal (whose lower half reaches two lines below the date).
        needed = 5 + (1 if doc.note else 0)
        if self.slot + needed > LINES:
            self.new_page()
        self.slot += 1
        self.font("fangsong", SIZE_3HAO)
        date_w = pdf.get_string_width(date_text) + (PITCH_X - SIZE_3HAO / PT) * (len(date_text) - 1)
        date_x = LEFT + AREA_W - 4 * PITCH_X - date_w
        issuer = doc.issuer_name
        issuer_w = pdf.get_string_width(issuer) + (PITCH_X - SIZE_3HAO / PT) * (len(issuer) - 1)
        issuer_x = max(LEFT, min(date_x + (date_w - issuer_w) / 2, LEFT + AREA_W - issuer_w))
        spacing = (PITCH_X - SIZE_3HAO / PT) * PT
        y_issuer = self.slot_y(self.slot)
        self.text_at(issuer_x, y_issuer, PITCH_Y, issuer, spacing_pt=spacing)
        self.place("issuer", issuer_x, y_issuer, issuer_w, PITCH_Y)
        self.slot += 1
        y_date = self.slot_y(self.slot)
        self.text_at(date_x, y_date, PITCH_Y, date_text, spacing_pt=spacing)
        self.place("date", date_x, y_date, date_w, PITCH_Y)
        self.slot += 1
        # The seal: centred on the date, the 署名 and date a little below its centre (GB/T 9704
        # 7.3.5.1); the 附注 stays on the line under the date, as the standard places it.
        size = SEAL_MM
        cx = date_x + date_w / 2
        cy = (y_issuer + y_date + PITCH_Y) / 2 - 3
        if self.seal_image:
            pdf.image(io.BytesIO(self.seal_image), x=cx - size / 2, y=cy - size / 2, w=size, h=size)
        self.place("seal", cx - size / 2, cy - size / 2, size, size)
        if doc.note:
            self.grid_line(f"（{doc.note.strip('（）()')}）", indent=2, name="note")

    def imprint(self) -> None:
        """版记 at the foot of the last page: the last rule on the type area's bottom edge."""
        doc, pdf = self.doc, self.pdf
        size = SIZE_4HAO
        em = size / PT
        self.font("fangsong", size)
        cc_lines: list[str] = []
        if doc.cc:
            cc = doc.cc.strip()
            if not cc.endswith("。"):
                cc += "。"
            label_w = pdf.get_string_width("抄送：") / em
            capacity = AREA_W / em - 2  # one character in from each side
            first = break_lines(cc, capacity - label_w, lambda ch: self.measure(ch, size))
            cc_lines = ["抄送：" + first[0]]
            rest = cc[len(first[0]) :]
            if rest:
                cc_lines += [
                    "\u3000" * 3 + line
                    for line in break_lines(rest, capacity - label_w, lambda ch: self.measure(ch, size))
                ]
        printing = doc.printing_date or (doc.issued_at and doc.issued_at.date()) or doc.date
        rows = len(cc_lines) + (1 if doc.printing_agency else 0)
        if rows == 0:
            return
        if self.slot + rows > LINES:
            self.new_page()
        bottom = TOP + AREA_H
        top = bottom - rows * PITCH_Y
        pdf.set_draw_color(*BLACK)
        pdf.set_line_width(THICK)
        pdf.line(LEFT, top, LEFT + AREA_W, top)
        y = top
        for n, line in enumerate(cc_lines):
            self.text_at(LEFT + em, y, PITCH_Y, line)
            if n == 0:
                self.place("cc", LEFT + em, y, AREA_W - 2 * em, PITCH_Y)
            y += PITCH_Y
        if doc.printing_agency:
            if cc_lines:
                pdf.set_line_width(THIN)
                pdf.line(LEFT, y, LEFT + AREA_W, y)
            self.text_at(LEFT + em, y, PITCH_Y, doc.printing_agency)
            if printing:
                date_text = chinese_date(printing) + "印发"
                w = pdf.get_string_width(date_text)
                self.text_at(LEFT + AREA_W - em - w, y, PITCH_Y, date_text)
            self.place("printing", LEFT + em, y, AREA_W - 2 * em, PITCH_Y)
            y += PITCH_Y
        pdf.set_line_width(THICK)
        pdf.line(LEFT, bottom, LEFT + AREA_W, bottom)
        self.place("imprint", LEFT, top, AREA_W, bottom - top)

    def run(self) -> Rendered:
        title_y = self.header()
        title_end = self.title(title_y)
        self.slot = self.next_slot_after(title_end + PITCH_Y * 0.5)
        self.body()
        self.sign_off()
        self.imprint()
        ops = self.pdf.ops
        data = self.pdf.to_bytes()
        return Rendered(data, self.pdf.page_no(), self.places, self.body_lines, ops)


def render_pdf(document: Document, *, seal_image: bytes | None = None, record: bool = False) -> Rendered:
    """The document laid out per GB/T 9704-2012 (see the module docstring), with its element boxes
    (and, with `record`, what was drawn: see DocumentPdf)."""
    return _Layout(document, seal_image=seal_image, record=record).run()
