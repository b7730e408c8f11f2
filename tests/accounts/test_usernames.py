"""Issue 9, part of defect 10: look-alike usernames (`ADMIN`, zero-width characters, other scripts)
are refused wherever accounts are made, and usernames are unique ignoring case."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from tongban.accounts import checks, services
from tongban.accounts.models import User
from tongban.accounts.usernames import normalize_username
from tongban.core.authz import SYSTEM
from tongban.core.errors import InvalidInput

LOOK_ALIKES = [
    ("ADMIN", "taken"),  # case
    ("Admin", "taken"),
    ("ａｄｍｉｎ", "taken"),  # full-width: NFKC makes it admin
    ("ad\u200bmin", "invisible"),  # zero-width space
    ("admin\u200d", "invisible"),  # zero-width joiner
    ("\u202eadmin", "invisible"),  # right-to-left override
    ("аdmin", "confusable"),  # Cyrillic а
    ("αdmin", "confusable"),  # Greek alpha
    ("ad min", "invisible"),
    ("1admin", "format"),
    ("ad", "length"),
]


@pytest.mark.parametrize("username,code", LOOK_ALIKES)
def test_staff_creation_refuses_look_alikes(db, username, code):
    with pytest.raises(InvalidInput) as refused:
        services.create_staff(
            SYSTEM,
            username=username,
            display_name="冒充者",
            department_code="ggb",
            password="a-long-password-2026",
        )
    assert [p.code for p in refused.value.fields["username"]] == [code]


@pytest.mark.parametrize("username,code", LOOK_ALIKES)
def test_registration_refuses_look_alikes(db, client, username, code):
    data = {
        "username": username,
        "password": "a-long-password-2026",
        "name": "冒充者",
        "id_number": "11010519491231002X",
        "phone": "13900000009",
    }
    with pytest.raises(InvalidInput) as refused:
        services.register_citizen(**data)
    assert [p.code for p in refused.value.fields["username"]] == [code]
    response = client.post("/api/v1/citizens", json.dumps(data), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["username"][0]["code"] == code


def test_staff_api_refuses_a_case_variant(db, staff_client):
    admin = staff_client("admin")
    response = admin.post(
        "/api/v1/staff",
        json.dumps({"username": "Clerk", "display_name": "冒充者", "department_code": "ggb"}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["username"][0]["code"] == "taken"


def test_usernames_are_stored_folded_and_the_database_refuses_case_twins(db):
    staff = services.create_staff(
        SYSTEM, username=" New.Clerk@ggb ", display_name="新人", department_code="ggb", roles=[]
    )
    assert staff.user.username == "new.clerk@ggb"
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("NEW.CLERK@GGB", "x", display_name="x", kind="staff")


def test_login_ignores_case(db):
    response = Client().post("/accounts/login", {"username": "ZhangSan", "password": "Tongban#2026"})
    assert response.status_code == 302


def test_normalize_username_messages_are_bilingual(db):
    from django.utils import translation

    with pytest.raises(ValidationError) as refused:
        normalize_username("ad\u200bmin")
    message = refused.value.error_list[0].message
    with translation.override("zh-hans"):
        zh = str(message)
    with translation.override("en"):
        en = str(message)
    assert zh != en and "invisible" in en


def test_odd_usernames_already_stored_are_reported_not_renamed(db):
    User.objects.create_user("legacy\u200buser", "x", display_name="x", kind="citizen")
    warnings = checks.usernames_are_plain(None)
    assert [w.id for w in warnings] == ["accounts.W002"] and "invisible" in warnings[0].msg
    assert User.objects.filter(username="legacy\u200buser").exists()


def test_the_migration_stops_on_usernames_that_differ_only_in_case():
    import importlib

    module = importlib.import_module("tongban.accounts.migrations.0004_identity_assurance")

    class Rows:
        def __init__(self, names):
            self.names = names

        def order_by(self, *_):
            return self

        def values_list(self, *_a, **_k):
            return self.names

    class Apps:
        def __init__(self, names):
            self.names = names

        def get_model(self, *_):
            return type("User", (), {"objects": Rows(self.names)})

    module.refuse_case_twins(Apps(["admin", "clerk"]), None)
    with pytest.raises(RuntimeError, match="admin / Admin"):
        module.refuse_case_twins(Apps(["admin", "clerk", "Admin"]), None)


def test_django_admin_migrate_runs_on_a_fresh_database(tmp_path, settings):
    """`django-admin migrate` runs the database checks before the first migration, when the users
    table does not exist yet: the usernames check must not crash it (it did)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    env.update(
        TONGBAN_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/fresh.sqlite3",
        TONGBAN_MASTER_KEY=os.environ.get("TONGBAN_MASTER_KEY", settings.TONGBAN_MASTER_KEY),
        TONGBAN_SECRET_KEY=os.environ.get("TONGBAN_SECRET_KEY", settings.SECRET_KEY),
        DJANGO_SETTINGS_MODULE="tongban.settings",
    )
    done = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
