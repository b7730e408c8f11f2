import pytest
from django.db import transaction

from tests.conftest import shared_data_dir
from tongban.catalog import search
from tongban.catalog.demo import loader
from tongban.guide import index


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker):
    """The real 广安区 list plus the high-frequency detail, loaded once per module and rolled back
    after it. The assistant is judged against the whole list, where the wrong answers live."""
    if shared_data_dir() is None:
        pytest.skip("shared data (../shared/data, or TONGBAN_DATA_DIR) is not here: guide tests skipped")
    with django_db_blocker.unblock(), transaction.atomic():
        loader.load_catalogue_list()
        loader.load_detail()
        index.invalidate()
        search.invalidate()
        yield
        transaction.set_rollback(True)
    index.invalidate()
    search.invalidate()


@pytest.fixture(autouse=True)
def _catalogue(catalogue, db):
    """Every test sees the module's catalogue (each in its own rolled-back transaction)."""


@pytest.fixture
def fresh_index():
    """For tests that publish or click: the index is a process-wide snapshot; start and end afresh."""
    index.invalidate()
    yield
    index.invalidate()
