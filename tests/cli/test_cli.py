"""The `tongban` command line, driven in-process with Typer's runner against the test database."""

import os
import re
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from typer.testing import CliRunner

from tongban.accounts import services as accounts
from tongban.accounts.actors import Actor
from tongban.accounts.models import (
    ApiToken,
    Department,
    Region,
    Role,
    RoleAssignment,
    Staff,
    User,
    UserKind,
    Window,
)
from tongban.accounts.roles import STAFF_MANAGE
from tongban.catalog.models import ServiceItem
from tongban.cli.main import app
from tongban.core import audit, journal_guard
from tongban.core.authz import SYSTEM
from tongban.core.models import AuditCheckpoint, AuditEntry

STRONG_PASSWORD = "Qx7!vLp2#Zr9-tongban"


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args, input=None):
        # A wide terminal so Rich does not wrap the lines the tests read.
        return runner.invoke(app, [str(a) for a in args], input=input, env={"COLUMNS": "200"})

    return invoke


# --- migrate and seed ---------------------------------------------------------------------------


def test_migrate_reports_up_to_date(cli, db):
    result = cli("migrate")
    assert result.exit_code == 0, result.output
    assert "Database is up to date" in result.output
    assert "(0 migrations applied)" in result.output


def test_seed_twice_creates_nothing_the_second_time(cli, seeded):
    # Take one window away so the first run has something to create.
    Window.objects.get(centre__code="gaq-zwzx", number="08").delete()

    first = cli("seed")
    assert first.exit_code == 0, first.output
    match = re.search(r"Demo city: (\d+) objects created, (\d+) already there", first.output)
    assert match, first.output
    assert int(match[1]) == 1
    assert Window.objects.filter(centre__code="gaq-zwzx", number="08").exists()
    total = Region.objects.count() + Department.objects.count() + ServiceItem.objects.count()

    second = cli("seed")
    assert second.exit_code == 0, second.output
    match2 = re.search(r"Demo city: (\d+) objects created, (\d+) already there", second.output)
    assert match2, second.output
    assert int(match2[1]) == 0
    assert int(match2[2]) == int(match[1]) + int(match[2])
    assert "(0 new), 0 items given full detail, 0 bundles" in second.output
    assert Region.objects.count() + Department.objects.count() + ServiceItem.objects.count() == total


# --- audit journal ------------------------------------------------------------------------------


def tamper_detail(nth: int) -> AuditEntry:
    """Change the detail of the nth entry written, as someone with write access to the database could."""
    entry = AuditEntry.objects.order_by("id")[nth - 1]
    journal_guard.remove(connection)
    try:
        assert AuditEntry.objects.filter(pk=entry.pk).update(detail={"tampered": True}) == 1
    finally:
        journal_guard.install(connection)
    return entry


def test_audit_verify_intact_then_broken(cli, seeded):
    entries = AuditEntry.objects.count()
    assert entries > 10

    ok = cli("audit", "verify")
    assert ok.exit_code == 0, ok.output
    assert "Audit journal intact" in ok.output
    assert f"{entries} entries" in ok.output
    checkpoint = AuditCheckpoint.objects.first()
    assert checkpoint.ok and checkpoint.trigger == "cli" and checkpoint.entries_checked == entries
    assert AuditEntry.objects.order_by("-id").first().action == "core.audit.verify"

    entry = tamper_detail(7)
    broken = cli("audit", "verify")
    assert broken.exit_code == 1, broken.output
    assert "BROKEN" in broken.output
    assert f"entry {entry.seq} of chain {entry.chain} was modified" in broken.output
    checkpoint = AuditCheckpoint.objects.first()
    assert not checkpoint.ok and checkpoint.trigger == "cli"


def test_journal_guard_is_back_after_tampering(seeded):
    entry = tamper_detail(3)
    result = audit.verify()
    assert not result.ok
    assert (result.bad_chain, result.bad_seq, result.problem) == (entry.chain, entry.seq, "modified")
    # The append-only trigger was reinstalled: ordinary updates are refused again.
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk + 1).update(detail={"again": True})


# --- createadmin --------------------------------------------------------------------------------


def test_createadmin_creates_staff_admin_over_subtree(cli, seeded):
    result = cli(
        "createadmin",
        "--username",
        "scadmin",
        "--name",
        "市监管理员",
        "--department",
        "scjgj",
        "--password",
        STRONG_PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert "Administrator scadmin created" in result.output

    user = User.objects.get(username="scadmin")
    assert user.is_staff and user.is_superuser and user.is_active
    assert user.kind == UserKind.STAFF
    assert user.display_name == "市监管理员"
    assert user.check_password(STRONG_PASSWORD)
    staff = Staff.objects.get(user=user)
    assert staff.department.code == "scjgj"
    grants = list(
        RoleAssignment.objects.filter(staff=staff).values_list("role", "department__code", "include_subtree")
    )
    assert grants == [(Role.ADMIN, "scjgj", True)]

    admin = Actor(user)
    assert admin.can(STAFF_MANAGE, Department.objects.get(code="scjgj"))
    assert admin.can(STAFF_MANAGE, Department.objects.get(code="scjgj-spjyk"))  # a section below
    assert not admin.can(STAFF_MANAGE, Department.objects.get(code="rsj"))  # a sibling bureau
    assert not admin.can(STAFF_MANAGE, Department.objects.get(code="gov"))  # the parent


def test_createadmin_unknown_department_exits_2(cli, seeded):
    result = cli(
        "createadmin",
        "--username",
        "ghost",
        "--name",
        "无部门",
        "--department",
        "no-such-dept",
        "--password",
        STRONG_PASSWORD,
    )
    assert result.exit_code == 2, result.output
    assert "department_code" in result.output
    assert not User.objects.filter(username="ghost").exists()


def test_createadmin_weak_password_exits_2(cli, seeded):
    result = cli(
        "createadmin",
        "--username",
        "weakadmin",
        "--name",
        "弱密码",
        "--department",
        "scjgj",
        "--password",
        "12345",
    )
    assert result.exit_code == 2, result.output
    assert "password" in result.output
    assert not User.objects.filter(username="weakadmin").exists()


# --- API tokens ---------------------------------------------------------------------------------


@pytest.fixture
def system_account(seeded):
    return accounts.create_staff(
        SYSTEM, username="sys-bot", display_name="对接系统", department_code="ggb-sjzy", kind=UserKind.SYSTEM
    )


def test_token_create_authenticates_and_revoke_stops_it(cli, client, system_account):
    created = cli("token", "create", "sys-bot", "--name", "exchange", "--days", "30")
    assert created.exit_code == 0, created.output
    raw = re.search(r"^(tb_[0-9a-f]{8}_\S+)$", created.stdout, re.MULTILINE)
    assert raw, created.output
    raw = raw[1]
    prefix = raw.split("_")[1]
    token = ApiToken.objects.get(prefix=prefix)
    assert token.user.username == "sys-bot" and token.name == "exchange"
    assert raw not in (token.digest, token.prefix)  # only a digest is stored

    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["username"] == "sys-bot" and body["kind"] == UserKind.SYSTEM

    wrong = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw[:-1]}x")
    assert wrong.status_code == 401

    revoked = cli("token", "revoke", prefix)
    assert revoked.exit_code == 0, revoked.output
    assert "Revoked" in revoked.output

    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_authenticated"
    assert set(error["message"]) == {"zh-Hans", "en"}
    assert error["message"]["en"]
    assert "request_id" in error

    again = cli("token", "revoke", prefix)
    assert again.exit_code == 1
    assert "No active token" in again.output


def test_token_create_refuses_person_accounts(cli, seeded):
    result = cli("token", "create", "clerk")
    assert result.exit_code == 2, result.output
    assert "username" in result.output
    assert not ApiToken.objects.exists()


# --- backup and restore -------------------------------------------------------------------------


def test_backup_and_restore_round_trip(cli, seeded, tmp_path, settings):
    settings.VAR_DIR, settings.TONGBAN_ANCHOR_DIR = str(tmp_path / "var"), str(tmp_path / "anchors")
    path = tmp_path / "cli.tbk"
    regions = sorted(Region.objects.values_list("code", flat=True))

    made = cli("backup", path)
    assert made.exit_code == 0, made.output
    assert "Backup written" in made.output
    assert path.is_file()

    accounts.create_region(SYSTEM, code="511602097", name="备份后街道")

    declined = cli("restore", path, input="n\n")
    assert declined.exit_code == 1
    assert Region.objects.filter(code="511602097").exists()

    restored = cli("restore", path, "--yes")
    assert restored.exit_code == 0, restored.output
    assert f"Backup of a {connection.vendor} database" in restored.output
    assert "Restored." in restored.output
    assert sorted(Region.objects.values_list("code", flat=True)) == regions

    verified = cli("audit", "verify")
    assert verified.exit_code == 0, verified.output


def test_restore_of_corrupted_file_is_refused(cli, seeded, tmp_path, settings):
    settings.VAR_DIR = str(tmp_path / "var")
    path = tmp_path / "cli.tbk"
    assert cli("backup", path).exit_code == 0
    with tarfile.open(path) as archive:
        member = next(m for m in archive.getmembers() if m.name != "manifest.json")
    data = bytearray(path.read_bytes())
    data[member.offset_data + member.size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    accounts.create_region(SYSTEM, code="511602096", name="损坏后街道")

    result = cli("restore", path, "--yes")
    assert result.exit_code == 1
    assert "Refused" in result.output
    assert "checksum mismatch" in result.output
    assert Region.objects.filter(code="511602096").exists()


def test_restore_of_a_non_backup_is_refused_before_asking(cli, db, tmp_path):
    junk = tmp_path / "junk.tbk"
    junk.write_bytes(b"not a backup at all\n" * 100)
    result = cli("restore", junk)  # no --yes and no input: it must not get as far as the question
    assert result.exit_code == 1
    assert "Refused" in result.output
    assert "Replace the current database" not in result.output


# --- the installed command on a real database file ------------------------------------------------


@pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") or "sqlite:").startswith("sqlite:"),
    reason="embedded-mode test (SQLite database file in a temporary var dir); this run's DATABASE_URL "
    "is not SQLite",
)
def test_backup_and_restore_of_a_wal_database_file(tmp_path):
    """In-process tests use an in-memory database; the embedded install has a WAL-mode file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_") and k != "DATABASE_URL"}
    env.update(
        TONGBAN_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        TONGBAN_QUEUE_URL="immediate://",
        TONGBAN_MASTER_KEY=os.environ.get("TONGBAN_MASTER_KEY", settings.TONGBAN_MASTER_KEY),
        TONGBAN_SECRET_KEY=os.environ.get("TONGBAN_SECRET_KEY", settings.SECRET_KEY),
        DJANGO_SETTINGS_MODULE="tongban.settings",
        COLUMNS="200",
    )
    tongban = Path(sys.executable).parent / "tongban"

    def run(*args):
        done = subprocess.run(
            [tongban, *map(str, args)], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        return done.returncode, done.stdout + done.stderr

    db_path, backup_path = tmp_path / "db.sqlite3", tmp_path / "backups" / "file.tbk"
    code, out = run("migrate")  # migrate, not seed: the demo passwords hash with argon2 here, slowly
    assert code == 0, out
    code, out = run("backup", backup_path)
    assert code == 0, out

    db = sqlite3.connect(db_path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        with db:
            db.execute(
                "INSERT INTO accounts_region (code, name, level, parent_id) VALUES ('990000', 'x', "
                "'province', NULL)"
            )
    finally:
        db.close()

    code, out = run("restore", backup_path, "--yes")
    assert code == 0, out
    assert "Restored." in out

    db = sqlite3.connect(db_path)
    try:
        assert db.execute("SELECT count(*) FROM accounts_region WHERE code = '990000'").fetchone()[0] == 0
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()
    code, out = run("audit", "verify")
    assert code == 0, out
    assert "Audit journal intact" in out


@pytest.mark.django_db(transaction=True)
def test_bootstrapping_a_new_installation_from_the_cli():
    from tongban.accounts.models import Department, Region, RoleAssignment

    runner = CliRunner()
    for code, name in [("330000", "浙江省"), ("330100", "杭州市"), ("330106", "西湖区")]:
        result = runner.invoke(app, ["org", "add-region", code, name])
        assert result.exit_code == 0, result.output
    orphan = runner.invoke(app, ["org", "add-region", "330502", "吴兴区"])
    assert orphan.exit_code == 2 and "code" in orphan.output
    result = runner.invoke(app, ["org", "add-government", "xh", "杭州市西湖区人民政府", "--region", "330106"])
    assert result.exit_code == 0, result.output
    assert Department.objects.get(code="xh").path == "/xh/"
    assert Region.objects.get(code="330106").parent_id == "330100"
    result = runner.invoke(
        app,
        [
            "createadmin",
            "--username",
            "xh_admin",
            "--name",
            "西湖管理员",
            "--department",
            "xh",
            "--password",
            "a-long-password-2026",
        ],
    )
    assert result.exit_code == 0, result.output
    grant = RoleAssignment.objects.get(staff__user__username="xh_admin")
    assert (grant.role, grant.department.code, grant.include_subtree) == ("admin", "xh", True)


def test_the_worker_knows_every_apps_jobs():
    """A worker process imports nothing but what it is told: every app's jobs must be registered
    before it reads the queue (a job it does not know is lost as "not found in TaskRegistry")."""
    from tongban.cli.main import load_tasks

    names = load_tasks()
    for job in (
        "cases.render_document",
        "cases.hand_over_licence",
        "cases.revoke_licences",
        "cases.sweep_deadlines",
        "insight.monthly_report",
        "core.nightly_audit_verification",
    ):
        assert any(n.endswith(f".{job}") for n in names), job
