"""Identity fixtures: a population register that answers real-name checks, and the SMS outbox."""

import datetime as dt

import pytest

from tests.exchange.conftest import population_row, spec
from tongban.accounts.seed import demo_id_number
from tongban.core import sms
from tongban.core.authz import SYSTEM
from tongban.exchange import services as exchange

ZHANGSAN = demo_id_number("511602", dt.date(1985, 3, 12), 13)
HOLDER = demo_id_number("511602", dt.date(1988, 5, 20), 41)  # 王小明: in the register, no account yet
HOLDER_NAME = "王小明"
DECEASED = demo_id_number("511621", dt.date(1940, 1, 2), 57)  # 赵老: recorded as deceased
STRANGER = "11010519491231002X"  # a valid number the register does not hold


@pytest.fixture
def register(db):
    """The 公安 population resource with a few people, and the portal department's (区公管办)
    approved grant for real-name checks (name and status), as the demo city has them."""
    exchange.save_resource(SYSTEM, **spec("population"))
    exchange.import_rows(
        SYSTEM,
        "population",
        [
            population_row(ZHANGSAN, "张三"),
            population_row(HOLDER, HOLDER_NAME),
            population_row(DECEASED, "赵老", region="511621", status="1"),
        ],
    )
    grant = exchange.request_grant(
        SYSTEM,
        consumer_code="ggb",
        resource_code="population",
        fields=["name", "status"],
        purpose="统一身份认证：实名核验",
        legal_basis="《网络安全法》第二十四条",
        valid_until=dt.date.today() + dt.timedelta(days=365),
    )
    exchange.decide(SYSTEM, grant.reference, approve=True)
    exchange.decide(SYSTEM, grant.reference, approve=True)
    return "population"


@pytest.fixture
def outbox(settings, tmp_path):
    """The console sender's outbox for this test; `outbox.code(phone)` is the newest code sent there."""
    settings.TONGBAN_SMS_OUTBOX = tmp_path / "sms-outbox.jsonl"

    class Outbox:
        path = settings.TONGBAN_SMS_OUTBOX

        @staticmethod
        def messages(phone=None):
            return sms.outbox(phone, last=100)

        @staticmethod
        def code(phone):
            rows = sms.outbox(phone, last=1)
            assert rows, f"no text message to {phone}"
            return rows[-1]["params"]["code"]

    return Outbox()
