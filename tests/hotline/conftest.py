import pytest

from tongban.accounts.models import Department
from tongban.hotline.models import Category

from ..conftest import actor


def category(path: str, department_code: str = "") -> Category:
    """A taxonomy branch (created level by level), with the centre's department on its last node."""
    parent = None
    parts = path.split("/")
    for level, _name in enumerate(parts, start=1):
        node_path = "/".join(parts[:level])
        parent, _ = Category.objects.get_or_create(
            path=node_path, defaults={"name": parts[level - 1], "level": level, "parent": parent}
        )
    if department_code:
        parent.department = Department.objects.get(code=department_code)
        parent.save()
    return parent


@pytest.fixture
def taxonomy(db):
    category("城乡建设", "zjj")
    category("城乡建设/城市建设和市政管理/园林绿化环卫")
    category("劳动和社会保障", "rsj")
    category("劳动和社会保障/社会保险/养老保险")
    category("教育文体")
    return Category.objects.all()


@pytest.fixture
def operator(db):
    return actor("operator")


@pytest.fixture
def handler_zj(db):
    return actor("handler_zj")


@pytest.fixture
def handler_rs(db):
    return actor("handler_rs")
