import copy
import datetime as dt

import pytest

from tongban.accounts.seed import demo_id_number
from tongban.core.authz import SYSTEM
from tongban.exchange import demo, services

ZHANGSAN = demo_id_number("511602", dt.date(1985, 3, 12), 13)
LISI = demo_id_number("511602", dt.date(1990, 7, 1), 24)
WANGWU = demo_id_number("511621", dt.date(1962, 11, 30), 35)


def spec(code: str) -> dict:
    return copy.deepcopy(next(r for r in demo.RESOURCES if r["code"] == code))


def population_row(number, name, *, region="511602", status="0", updated="2026/10/1", **extra):
    return {
        "公民身份号码": number,
        "姓名": name,
        "性别": "1",
        "出生日期": "19850312",
        "民族": "汉族",
        "户籍地区划": region,
        "住址": "建设路12号",
        "与户主关系": "户主",
        "人员状态": status,
        "更新日期": updated,
        **extra,
    }


@pytest.fixture
def population(db):
    """The 公安 population resource with the three demo citizens (王五 deceased, in 岳池县)."""
    services.save_resource(SYSTEM, **spec("population"))
    services.import_rows(
        SYSTEM,
        "population",
        [
            population_row(ZHANGSAN, "张三"),
            population_row(LISI, "李四"),
            population_row(WANGWU, "王五", region="511621", status="1"),
        ],
    )
    return "population"


@pytest.fixture
def grant_for(db):
    """An approved grant (provider, then authority) for a consumer department."""

    def make(consumer, resource, fields, *, days=365):
        grant = services.request_grant(
            SYSTEM,
            consumer_code=consumer,
            resource_code=resource,
            fields=fields,
            purpose="测试核验",
            legal_basis="《测试条例》",
            valid_until=dt.date.today() + dt.timedelta(days=days),
        )
        services.decide(SYSTEM, grant.reference, approve=True)
        return services.decide(SYSTEM, grant.reference, approve=True)

    return make
