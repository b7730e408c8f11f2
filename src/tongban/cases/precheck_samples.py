"""A generated test set for 智能预审: scans of five kinds of material, drawn with our fonts and then
spoiled the way phones and scanners spoil them (rotation, blur, noise, JPEG artefacts).

Real scans of ID cards and licences are personal data and cannot be kept as test files, so the
test set is drawn from a seed each time it is needed (the benchmark, `tongban precheck evaluate`,
the tests); every sample carries the truth it was drawn from, so reading it can be scored field by
field. The same seed draws the same images on every machine with the same fonts.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from tongban.core.identifiers import USCC_CHARSET, id_check_char, uscc_check_char

FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2: Simplified Chinese
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0),
)
KINDS = ("id_card", "business_licence", "property_certificate", "application_form", "household_register")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅文辉鹏宇浩然欣怡子涵思远博文嘉怡雨桐梓"
    "萱俊杰晨阳佳琪天佑诗涵雅婷一鸣"
)
_PLACES = (
    ("110105", "北京市朝阳区"),
    ("310104", "上海市徐汇区"),
    ("440305", "广东省深圳市南山区"),
    ("330106", "浙江省杭州市西湖区"),
    ("320102", "江苏省南京市玄武区"),
    ("510107", "四川省成都市武侯区"),
    ("420106", "湖北省武汉市武昌区"),
    ("370202", "山东省青岛市市南区"),
    ("610113", "陕西省西安市雁塔区"),
    ("350203", "福建省厦门市思明区"),
)
_ROADS = "建设路 人民路 解放路 中山路 和平街 朝阳路 长江路 黄河路 文化路 幸福街 光明路 青年路 新华街".split()
_TRADES = "商贸 科技 餐饮 文化传媒 建筑工程 信息技术 物流 服装 食品 教育咨询".split()
_SHOPS = "宏达 鑫源 华泰 金桥 瑞丰 恒通 嘉禾 新意 安泰 博远 正阳 和兴".split()
_NATIONS = "汉 汉 汉 汉 回 满 蒙古 壮 苗".split()


@dataclass
class Truth:
    """What a sample shows, field by field (the reader is scored against these)."""

    kind: str
    fields: dict = field(default_factory=dict)


@dataclass
class Sample:
    name: str
    truth: Truth
    image: bytes  # JPEG or PNG bytes as uploaded
    file_kind: str  # "jpeg" | "png"
    damage: dict = field(default_factory=dict)


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def _address(rng: random.Random, city: str) -> str:
    return (
        f"{city}{rng.choice(_ROADS)}{rng.randint(1, 399)}号{rng.randint(1, 30)}栋{rng.randint(101, 2808)}室"
    )


def _date(rng: random.Random, start: int, end: int) -> dt.date:
    return dt.date(rng.randint(start, end), rng.randint(1, 12), rng.randint(1, 28))


def id_number(rng: random.Random, region: str, born: dt.date) -> str:
    first17 = f"{region}{born:%Y%m%d}{rng.randint(1, 999):03d}"
    return first17 + id_check_char(first17)


def uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice(USCC_CHARSET) for _ in range(9))
    return body + uscc_check_char(body)


def _person(rng: random.Random, today: dt.date) -> dict:
    region, city = rng.choice(_PLACES)
    born = _date(rng, 1950, 2004)
    return {
        "name": _name(rng),
        "id_number": id_number(rng, region, born),
        "born": born,
        "address": _address(rng, city),
    }


def _font(path_index, size):
    from PIL import ImageFont

    path, index = path_index
    return ImageFont.truetype(path, size, index=index)


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _dotted(day: dt.date) -> str:
    return f"{day:%Y.%m.%d}"


def _seal(draw, centre, radius, text: str, font_spec) -> None:
    """A red round seal: two rings, a star and the issuer's name along the top."""
    import math

    x, y = centre
    red = (214, 30, 36)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=red, width=max(3, radius // 14))
    inner = radius - radius // 6
    draw.ellipse((x - inner, y - inner, x + inner, y + inner), outline=red, width=2)
    star = [
        (
            x + (radius * (0.28 if i % 2 == 0 else 0.11)) * math.sin(i * math.pi / 5),
            y - (radius * (0.28 if i % 2 == 0 else 0.11)) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]
    draw.polygon(star, fill=red)
    small = _font(font_spec, max(12, radius // 5))
    for i, ch in enumerate(text):
        angle = math.radians(-120 + 240 * (i + 0.5) / max(len(text), 1))
        cx = x + (radius * 0.68) * math.sin(angle)
        cy = y - (radius * 0.68) * math.cos(angle)
        draw.text((cx, cy), ch, fill=red, font=small, anchor="mm")


def _page(width: int, height: int):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (250, 249, 244))
    return image, ImageDraw.Draw(image)


def _lines(draw, x, y, rows, font, gap, colour=(25, 25, 25)):
    for row in rows:
        draw.text((x, y), row, fill=colour, font=font)
        y += gap
    return y


def draw_id_card(rng, font_spec, today, **overrides):
    """A photocopy of both sides of a 居民身份证 on one sheet, as windows ask for it."""
    p = {**_person(rng, today), **overrides}
    sex = "男" if int(p["id_number"][16]) % 2 else "女"
    issued = _date(rng, today.year - 18, today.year - 1)
    years = rng.choice((10, 20))
    until = issued.replace(year=issued.year + years)
    if rng.random() < 0.2:  # some expired cards
        issued = issued.replace(year=issued.year - years - 1)
        until = issued.replace(year=issued.year + years)
    image, draw = _page(960, 720)
    big, mid = _font(font_spec, 30), _font(font_spec, 26)
    draw.rounded_rectangle((40, 30, 920, 340), radius=24, outline=(120, 140, 160), width=3)
    y = _lines(
        draw,
        70,
        55,
        [
            f"姓名 {p['name']}",
            f"性别 {sex}   民族 {rng.choice(_NATIONS)}",
            f"出生 {p['born'].year}年{p['born'].month}月{p['born'].day}日",
            f"住址 {p['address']}",
        ],
        mid,
        52,
    )
    draw.rectangle((700, 70, 880, 250), outline=(150, 150, 150), width=2)
    draw.text((70, y + 20), f"公民身份号码 {p['id_number']}", fill=(20, 20, 20), font=big)
    draw.rounded_rectangle((40, 380, 920, 690), radius=24, outline=(120, 140, 160), width=3)
    draw.text((300, 410), "中华人民共和国", fill=(20, 20, 20), font=_font(font_spec, 34))
    draw.text((330, 470), "居民身份证", fill=(20, 20, 20), font=_font(font_spec, 40))
    office = rng.choice(_PLACES)[1] + "公安分局"
    _lines(draw, 90, 570, [f"签发机关 {office}", f"有效期限 {_dotted(issued)}-{_dotted(until)}"], mid, 52)
    fields = {"name": p["name"], "id_number": p["id_number"], "address": p["address"], "valid_until": until}
    return image, fields


def draw_business_licence(rng, font_spec, today):
    region, city = rng.choice(_PLACES)
    name = (
        f"{city[-3:-1] if city.endswith('区') else city[:2]}{rng.choice(_SHOPS)}{rng.choice(_TRADES)}有限公司"
    )
    code = uscc(rng, region)
    founded = _date(rng, 2005, today.year - 1)
    forever = rng.random() < 0.5
    until = None if forever else founded.replace(year=founded.year + rng.choice((10, 20, 30)))
    if not forever and rng.random() < 0.2:
        founded = founded.replace(year=founded.year - 25)
        until = founded.replace(year=founded.year + 10)
    rep = _name(rng)
    address = _address(rng, city)
    image, draw = _page(1000, 760)
    draw.rectangle((20, 20, 980, 740), outline=(170, 60, 40), width=6)
    draw.text((380, 45), "营业执照", fill=(20, 20, 20), font=_font(font_spec, 52))
    mid = _font(font_spec, 25)
    draw.text((60, 140), f"统一社会信用代码 {code}", fill=(20, 20, 20), font=_font(font_spec, 27))
    term = "长期" if forever else _cn_date(until)
    _lines(
        draw,
        60,
        210,
        [
            f"名称 {name}",
            "类型 有限责任公司(自然人投资或控股)",
            f"法定代表人 {rep}",
            f"注册资本 {rng.choice((10, 50, 100, 200, 500))}万元整",
            f"成立日期 {_cn_date(founded)}",
            f"营业期限 {_cn_date(founded)}至{term}",
            f"住所 {address}",
        ],
        mid,
        56,
    )
    seal = rng.random() < 0.75
    office = city[-3:] + "市场监督管理局" if city.endswith("区") else "市场监督管理局"
    draw.text((640, 640), "登记机关", fill=(20, 20, 20), font=mid)
    draw.text(
        (600, 690),
        _cn_date(_date(rng, founded.year, today.year)),
        fill=(20, 20, 20),
        font=_font(font_spec, 22),
    )
    if seal:
        _seal(draw, (800, 640), 78, office, font_spec)
    fields = {
        "name": name,
        "uscc": code,
        "legal_representative": rep,
        "address": address,
        "valid_until": until,
        "seal": seal,
    }
    return image, fields


def draw_property_certificate(rng, font_spec, today):
    region, city = rng.choice(_PLACES)
    owner = _name(rng)
    address = _address(rng, city)
    number = f"{city[:2]}({rng.randint(2012, today.year)})不动产权第{rng.randint(1, 9999999):07d}号"
    registered = _date(rng, 2012, today.year)
    seal = rng.random() < 0.75
    image, draw = _page(1000, 720)
    draw.rectangle((20, 20, 980, 700), outline=(40, 90, 60), width=5)
    draw.text((330, 40), "不动产权证书", fill=(20, 20, 20), font=_font(font_spec, 48))
    mid = _font(font_spec, 25)
    _lines(
        draw,
        60,
        130,
        [
            number,
            f"权利人 {owner}",
            "共有情况 单独所有",
            f"坐落 {address}",
            f"不动产单元号 {region}{rng.randint(1, 999):03d}GB{rng.randint(1, 99999):05d}F00010001",
            "权利类型 国有建设用地使用权/房屋所有权",
            f"用途 住宅   面积 {rng.randint(40, 180)}.{rng.randint(10, 99)}平方米",
            f"登记日期 {_cn_date(registered)}",
        ],
        mid,
        56,
    )
    if seal:
        _seal(draw, (820, 600), 75, city[-3:] + "不动产登记局", font_spec)
    return image, {"name": owner, "address": address, "date": registered, "seal": seal}


def draw_application_form(rng, font_spec, today):
    p = _person(rng, today)
    signed = today - dt.timedelta(days=rng.randint(0, 20))
    phone = f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"
    image, draw = _page(1000, 760)
    title = rng.choice(
        ("个体工商户设立登记申请表", "老年人优待证申请表", "居住证申领登记表", "食品经营许可申请书")
    )
    draw.text((500, 50), title, fill=(20, 20, 20), font=_font(font_spec, 40), anchor="mt")
    mid = _font(font_spec, 25)
    rows = [
        f"申请人姓名 {p['name']}",
        f"身份证号码 {p['id_number']}",
        f"联系电话 {phone}",
        f"联系地址 {p['address']}",
        "申请事项 本人自愿申请，所填信息真实有效。",
    ]
    y = 140
    for row in rows:
        draw.rectangle((50, y - 10, 950, y + 46), outline=(90, 90, 90), width=2)
        draw.text((70, y), row, fill=(20, 20, 20), font=mid)
        y += 56
    draw.text((560, y + 70), f"申请人(签字): {p['name']}", fill=(30, 30, 60), font=_font(FONTS[2], 28))
    draw.text((560, y + 130), f"申请日期 {_cn_date(signed)}", fill=(20, 20, 20), font=mid)
    fields = {"name": p["name"], "id_number": p["id_number"], "address": p["address"], "date": signed}
    return image, fields


def draw_household_register(rng, font_spec, today):
    p = _person(rng, today)
    image, draw = _page(1000, 720)
    draw.text((500, 40), "常住人口登记卡", fill=(20, 20, 20), font=_font(font_spec, 44), anchor="mt")
    draw.text((500, 100), "居民户口簿", fill=(60, 60, 60), font=_font(font_spec, 26), anchor="mt")
    mid = _font(font_spec, 25)
    _lines(
        draw,
        60,
        170,
        [
            f"姓名 {p['name']}   户主或与户主关系 {rng.choice(('户主', '子', '女', '妻', '夫'))}",
            f"出生日期 {_cn_date(p['born'])}",
            f"公民身份号码 {p['id_number']}",
            f"住址 {p['address']}",
            f"登记日期 {_cn_date(_date(rng, 2010, today.year))}",
        ],
        mid,
        62,
    )
    seal = rng.random() < 0.6
    if seal:
        _seal(draw, (800, 580), 70, "户口专用章", font_spec)
    return image, {"name": p["name"], "id_number": p["id_number"], "address": p["address"], "seal": seal}


DRAW = {
    "id_card": draw_id_card,
    "business_licence": draw_business_licence,
    "property_certificate": draw_property_certificate,
    "application_form": draw_application_form,
    "household_register": draw_household_register,
}


def spoil(image, rng: random.Random, *, strength: float = 1.0):
    """Rotate, blur, add noise and compress like a phone photo or a cheap scanner.

    Returns (bytes, file kind, the damage done)."""
    import numpy as np
    from PIL import Image, ImageFilter

    angle = rng.uniform(-6, 6) * strength
    blur = rng.uniform(0, 1.3) * strength
    noise = rng.uniform(0, 14) * strength
    quality = int(rng.uniform(30, 85)) if strength else 95
    scale = rng.uniform(0.8, 1.1)
    image = image.resize((int(image.width * scale), int(image.height * scale)), Image.Resampling.BILINEAR)
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(236, 236, 230))
    if blur > 0.05:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if noise > 0.5:
        pixels = np.asarray(image).astype(np.int16)
        noisy = pixels + np.random.default_rng(rng.randint(0, 2**31)).normal(0, noise, pixels.shape).astype(
            np.int16
        )
        image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    png = rng.random() < 0.15
    if png:
        image.save(out, "PNG")
    else:
        image.save(out, "JPEG", quality=quality)
    damage = {"angle": round(angle, 1), "blur": round(blur, 2), "noise": round(noise, 1), "quality": quality}
    return out.getvalue(), ("png" if png else "jpeg"), damage


def draw(kind: str, seed: int, *, today: dt.date | None = None, spoilt: bool = True, **overrides) -> Sample:
    """One sample of `kind` from `seed`; `overrides` (ID cards only: name, id_number, address, born)
    put given values on the card instead of drawn ones."""
    rng = random.Random(f"{kind}:{seed}")
    today = today or dt.date(2026, 6, 1)
    font_spec = FONTS[seed % len(FONTS)]
    image, fields = (
        DRAW[kind](rng, font_spec, today, **overrides) if overrides else DRAW[kind](rng, font_spec, today)
    )
    if spoilt:
        data, file_kind, damage = spoil(image, rng)
    else:
        out = io.BytesIO()
        image.save(out, "PNG")
        data, file_kind, damage = out.getvalue(), "png", {}
    return Sample(f"{kind}-{seed:04d}", Truth(kind, fields), data, file_kind, damage)


def generate(count: int, seed: int = 16, *, today: dt.date | None = None) -> list[Sample]:
    """`count` samples, the five kinds in turn."""
    return [draw(KINDS[i % len(KINDS)], seed * 100_000 + i, today=today) for i in range(count)]


def write(samples: list[Sample], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in samples:
        path = directory / f"{s.name}.{'png' if s.file_kind == 'png' else 'jpg'}"
        path.write_bytes(s.image)
        paths.append(path)
    return paths


# --- scoring -------------------------------------------------------------------------------------


@dataclass
class Score:
    """How reading the test set went: fields right out of fields scored, wrong-type detection, time."""

    samples: int = 0
    fields: int = 0
    fields_right: int = 0
    wrong_kind_trials: int = 0
    wrong_kind_caught: int = 0
    right_kind_trials: int = 0
    false_alarms: int = 0
    seconds: list = field(default_factory=list)
    misses: list = field(default_factory=list)  # (sample, field, expected, read) for the first few

    @property
    def field_accuracy(self) -> float:
        return self.fields_right / self.fields if self.fields else 0.0

    @property
    def wrong_kind_detection(self) -> float:
        return self.wrong_kind_caught / self.wrong_kind_trials if self.wrong_kind_trials else 0.0

    @property
    def seconds_per_page(self) -> float:
        return sum(self.seconds) / len(self.seconds) if self.seconds else 0.0


def _same(field_name: str, truth, read) -> bool:
    if field_name in ("name", "legal_representative", "address"):
        return isinstance(read, str) and re.sub(r"\s", "", read) == re.sub(r"\s", "", str(truth))
    if field_name == "valid_until" and truth is None:
        return read == "长期"
    return read == truth


def score_sample(score: Score, sample: Sample, reading) -> None:
    """Add one read sample to the score: the kind and every field its kind carries."""
    from . import precheck

    lines = [line.text for line in reading.lines]
    extracted = precheck.extract(lines, reading.seal)
    truth = sample.truth
    score.samples += 1
    score.seconds.append(reading.seconds / max(len(reading.pages), 1))
    checks = [("kind", truth.kind, extracted.kind)]
    checks += [
        (f, truth.fields.get(f), extracted.fields.get(f, False if f == "seal" else None))
        for f in precheck.KIND_FIELDS[truth.kind]
    ]
    for name, expected, read in checks:
        score.fields += 1
        if _same(name, expected, read):
            score.fields_right += 1
        elif len(score.misses) < 40:
            score.misses.append((sample.name, name, str(expected), str(read)))
    # The same scan uploaded as another material: it must be called the wrong type; uploaded as
    # its own material, never.
    other = KINDS[(KINDS.index(truth.kind) + 1 + score.samples % (len(KINDS) - 1)) % len(KINDS)]
    facts = precheck.Facts(today=dt.date(2026, 6, 1))
    score.wrong_kind_trials += 1
    if precheck.outcome_of(precheck.compare(extracted, other, facts)) == "wrong_kind":
        score.wrong_kind_caught += 1
    score.right_kind_trials += 1
    if precheck.outcome_of(precheck.compare(extracted, truth.kind, facts)) == "wrong_kind":
        score.false_alarms += 1


def evaluate(count: int = 200, seed: int = 16, *, directory: Path | None = None, progress=None) -> Score:
    """Draw `count` samples into `directory` (a temporary one if not given), read each file back
    with the OCR engine as an upload would be read, and score the reading."""
    import tempfile

    from . import ocr

    score = Score()
    with tempfile.TemporaryDirectory(prefix="tongban-precheck-") as scratch:
        folder = Path(directory) if directory is not None else Path(scratch)
        drawn = generate(count, seed)
        paths = write(drawn, folder)
        for sample, path in zip(drawn, paths, strict=True):
            reading = ocr.read(path.read_bytes(), sample.file_kind)
            score_sample(score, sample, reading)
            if progress is not None:
                progress(sample)
    return score
