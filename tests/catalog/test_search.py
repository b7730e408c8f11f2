"""Catalogue search as citizens use it, on the real 广安区 list plus the high-frequency detail."""

import pytest
from django.db import transaction

from tests.conftest import shared_data_dir
from tongban.catalog import search, services
from tongban.catalog.demo import loader
from tongban.core.authz import SYSTEM

FOOD = "511A0005200004-511602000000-000-115113016823646795-1-00"
COMPANY = "511A0064100070-511602000000-000-115113016823646795-1-00"
SOCIAL_SECURITY_CARD = "512B0070200003-511602000000-000-1151130108778239R-1-00"
BIRTH_CERTIFICATE = "512023377001-511602000000-000-11511301008778490F-1-00"
MARRIAGE = "511F0287300000-511602000000-000-11511301008778298W-1-00"
TRANSFER = "DEMO-ZRZYJ-BDC-TRANSFER"


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker):
    """The detail (and the real list when the shared data is here), loaded once for the module and
    rolled back after it. Yields whether the real list is loaded."""
    with_list = shared_data_dir() is not None
    with django_db_blocker.unblock(), transaction.atomic():
        if with_list:
            loader.load_catalogue_list()
        loader.load_detail()
        search.invalidate()  # drop any snapshot an earlier test module left behind
        yield with_list
        transaction.set_rollback(True)
    search.invalidate()


@pytest.fixture(autouse=True)
def _catalogue(catalogue, db):
    """Every test sees the module's catalogue (each in its own rolled-back transaction)."""


@pytest.fixture
def real_list(catalogue):
    """Relevance is judged against the whole district list, where most wrong answers live."""
    if not catalogue:
        pytest.skip("shared data (../shared/data, or TONGBAN_DATA_DIR) is not here: relevance tests skipped")


@pytest.fixture
def changes(db):
    """For tests that publish: the index is a process-wide snapshot, so start and end with a fresh one."""
    search.invalidate()
    yield
    search.invalidate()


def codes(query: str, n: int = 3) -> list[str]:
    return [hit.code for hit in search.search(query, limit=n)]


def test_open_a_restaurant_finds_the_food_licence_first(real_list):
    assert codes("开饭店", 1) == [FOOD]
    assert codes("我想开个饭店", 1) == [FOOD]
    assert codes("开餐馆", 1) == [FOOD]


def test_open_a_company_finds_registration_or_the_bundle(real_list):
    assert {COMPANY, "BUNDLE-QYKB"} & set(codes("开公司"))
    assert {COMPANY, "BUNDLE-QYKB"} & set(codes("我要注册公司"))


def test_social_security_card(real_list):
    assert SOCIAL_SECURITY_CARD in codes("社保卡")
    assert SOCIAL_SECURITY_CARD in codes("怎么办社保卡")


def test_having_a_baby(real_list):
    assert {"BUNDLE-XSECS", BIRTH_CERTIFICATE} & set(codes("生孩子"))
    assert {"BUNDLE-XSECS", BIRTH_CERTIFICATE} & set(codes("宝宝出生了要办什么"))


def test_buying_a_flat(real_list):
    assert {"BUNDLE-ESFJY", TRANSFER} & set(codes("买房过户"))
    assert {"BUNDLE-ESFJY", TRANSFER} & set(codes("二手房过户"))


def test_getting_married(real_list):
    assert codes("结婚", 1) == [MARRIAGE]
    assert MARRIAGE in codes("领结婚证")


def test_lost_identity_card(real_list):
    hits = search.search("身份证丢了", limit=3)
    assert hits and "居民身份证" in hits[0].name
    assert hits[0].kind == "item"


def test_hits_carry_kind_name_department_and_a_falling_score(real_list):
    hits = search.search("开公司", limit=10)
    assert hits and all(h.kind in ("item", "bundle") and h.name and h.department for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.score > 0 for h in hits)


@pytest.mark.parametrize(
    "query", ["", "   ", "我想办理", "请问 怎么 办理 在哪里", "需要什么手续？", "！！？"]
)
def test_a_question_without_a_meaningful_word_finds_nothing(query):
    assert search.search(query) == []


@pytest.mark.parametrize("query", ["hello world", "kai fan dian", "asdf qwer zxcv", "xyzzy 12345"])
def test_nonsense_finds_nothing(query):
    assert search.search(query) == []


def _publish_new_item():
    services.create_item(
        SYSTEM,
        code="TEST-SEARCH-001",
        department_code="scjgj",
        name="萤火虫观赏季夜游预约",
        item_type="public_service",
        keywords="萤火虫 夜游",
        statutory_limit_days=5,
        promised_limit_days=1,
    )
    services.publish_item(SYSTEM, "TEST-SEARCH-001")


def test_a_newly_published_item_is_found_after_invalidate(changes):
    assert codes("萤火虫") == []  # builds the index
    _publish_new_item()
    search.invalidate()  # what publishing does once its transaction commits
    assert codes("萤火虫", 1) == ["TEST-SEARCH-001"]


def test_other_processes_notice_a_change_by_fingerprint(changes, monkeypatch):
    """Without invalidate() (another process published), the fingerprint check rebuilds the index."""
    assert codes("萤火虫") == []
    built = search._index()
    monkeypatch.setattr(search, "RECHECK_SECONDS", 0)
    assert search._index() is built  # nothing changed: the snapshot is reused
    _publish_new_item()
    assert codes("萤火虫", 1) == ["TEST-SEARCH-001"]
    assert search._index() is not built


def test_within_the_recheck_interval_the_snapshot_is_reused(changes):
    assert codes("萤火虫") == []
    _publish_new_item()
    assert codes("萤火虫") == []  # until RECHECK_SECONDS pass or invalidate() runs
