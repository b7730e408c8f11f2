from tongban.accounts.models import Department, User


def test_demo_city_is_seeded(db):
    assert Department.objects.filter(code="scjgj-spjyk").exists()
    assert User.objects.filter(username="clerk").exists()
