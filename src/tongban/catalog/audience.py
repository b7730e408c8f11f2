"""服务对象 judged from an item's name, for catalogue lists that do not give it (the real 广安区 list
has no such column), and the life events (人生事件 / 企业全生命周期) the portal's two tabs offer.

The judgement reads the words real item names use: a licence to run a business, a company's
registration or a construction permit serves 法人; a 户口, a birth, a pension or a disability
card serves 个人; a name with words of both, or of neither, serves both. It is a starting point
that the catalogue's editors correct item by item (the field is editable and exported).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import Audience

ENTERPRISE_WORDS = (
    "企业",
    "公司",
    "法人",
    "单位",
    "经营",
    "营业",
    "工商",
    "市场主体",
    "合作社",
    "个体工商户",
    "生产",
    "施工",
    "建设工程",
    "建设项目",
    "工程建设",
    "建筑",
    "开发",
    "机构",
    "场所",
    "社会团体",
    "社会组织",
    "民办",
    "学校",
    "医院",
    "药品",
    "医疗器械",
    "食品",
    "危险化学品",
    "危化品",
    "烟草",
    "出版",
    "电影",
    "广播",
    "电视台",
    "印刷",
    "旅馆",
    "网吧",
    "上网服务",
    "娱乐",
    "道路运输",
    "道路货运",
    "道路客运",
    "客运",
    "货运",
    "矿",
    "排污",
    "取水",
    "采砂",
    "林木采伐",
    "招标",
    "纳税人",
    "发票",
    "涉税",
    "非正常户",
    "外商",
    "进出口",
    "商标",
    "广告",
    "特种设备",
    "起重机械",
    "宗教活动场所",
    "粮食收购",
    "拍卖",
    "典当",
    "慈善组织",
    "定点医药",
    "幼儿园",
)
PERSON_WORDS = (
    "个人",
    "居民",
    "公民",
    "户口",
    "户籍",
    "身份证",
    "居住证",
    "出生",
    "生育",
    "收养",
    "婚",
    "独生子女",
    "计划生育",
    "死亡",
    "殡葬",
    "遗属",
    "抚恤",
    "优待",
    "退役",
    "军人",
    "残疾",
    "低保",
    "特困",
    "救助",
    "养老保险关系",
    "养老金",
    "退休",
    "职工",
    "失业",
    "就业",
    "社会保障卡",
    "社保卡",
    "医保",
    "参保",
    "就医",
    "异地就医",
    "门诊",
    "学生",
    "入学",
    "学籍",
    "助学",
    "教师资格",
    "驾驶",
    "机动车驾驶",
    "无犯罪记录",
    "公证",
    "法律援助",
    "个税",
    "公积金",
    "住房",
    "不动产",
    "高龄",
    "老年",
    "病残",
    "医师执业",
    "护士执业",
    "执业注册",
    "职业资格",
    "技能",
    "最低生活保障",
    "护照",
    "通行证",
    "签注",
    "待遇",
    "保教费",
)


def guess_audience(name: str, parent_name: str = "") -> str:
    """个人, 法人, or both, by the words of the item's name (its main item's name counts too)."""
    # 个人独资企业 is an enterprise of one person: its 个人 is no natural person's service.
    text = f"{name} {parent_name}".replace("个人独资", "独资")
    enterprise = any(word in text for word in ENTERPRISE_WORDS)
    person = any(word in text for word in PERSON_WORDS)
    if enterprise and not person:
        return Audience.ENTERPRISE
    if person and not enterprise:
        return Audience.PERSON
    return Audience.BOTH


@dataclass(frozen=True)
class LifeEvent:
    """A tile of the portal: a moment of a life or of an enterprise, found by the words people use."""

    key: str
    label: str
    query: str  # searched in the catalogue (catalog.search), with its synonyms


PERSON_EVENTS = (
    LifeEvent("birth", _("Having a baby"), "出生 生育"),
    LifeEvent("household", _("Household registration"), "户口"),
    LifeEvent("school", _("Going to school"), "入学 学生"),
    LifeEvent("work", _("Work and unemployment"), "就业 失业"),
    LifeEvent("marriage", _("Marriage"), "结婚 婚姻登记"),
    LifeEvent("social_security", _("Social security and medical insurance"), "社会保障卡 医保"),
    LifeEvent("housing", _("Housing and property"), "公积金 不动产"),
    LifeEvent("driving", _("Driving and vehicles"), "驾驶"),
    LifeEvent("retirement", _("Retirement and old age"), "退休 养老"),
    LifeEvent("disability", _("Disability and assistance"), "残疾 救助"),
    LifeEvent("bereavement", _("After a death"), "死亡 殡葬"),
)
ENTERPRISE_EVENTS = (
    LifeEvent("start", _("Starting a business"), "设立登记 开办"),
    LifeEvent("permits", _("Operating permits"), "经营许可"),
    LifeEvent("construction", _("Construction projects"), "施工 建设工程"),
    LifeEvent("tax", _("Tax"), "纳税人 发票"),
    LifeEvent("staff", _("Employing staff"), "企业 社会保险 工时"),
    LifeEvent("change", _("Changes and filings"), "变更登记 备案"),
    LifeEvent("close", _("Closing down"), "注销"),
)


def life_events(audience: str) -> tuple[LifeEvent, ...]:
    return ENTERPRISE_EVENTS if audience == Audience.ENTERPRISE else PERSON_EVENTS
