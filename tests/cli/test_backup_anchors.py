"""`tongban backup`, `tongban restore` and `tongban audit verify --anchors`, as an operator runs them."""

import json
import re
import tarfile

import pytest
from django.db import connection
from typer.testing import CliRunner

from tests import samples
from tests.conftest import actor
from tongban.cli.main import app
from tongban.core import journal_guard
from tongban.core.models import AuditEntry, AuditHead


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], input=input, env={"COLUMNS": "200"})

    return invoke


@pytest.fixture(autouse=True)
def own_dirs(settings, tmp_path):
    settings.VAR_DIR = str(tmp_path / "var")
    settings.TONGBAN_ANCHOR_DIR = str(tmp_path / "anchors")
    return tmp_path


def check_line(output: str) -> dict[str, int]:
    (line,) = [x for x in output.splitlines() if x.startswith("CHECK audit_anchors ")]
    assert output.rstrip().splitlines()[-1] == line, "the CHECK line comes last"
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def cut_tail(chain: int, keep: int) -> None:
    last = AuditEntry.objects.get(chain=chain, seq=keep)
    journal_guard.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditentry WHERE chain = %s AND seq > %s", [chain, keep])
            cursor.execute(
                "UPDATE core_audithead SET seq = %s, entry_mac = %s WHERE id = %s",
                [keep, last.entry_mac, chain],
            )
    finally:
        journal_guard.install(connection)


# --- audit verify --anchors -----------------------------------------------------------------------


def test_verify_with_anchors_on_an_intact_journal(cli, db):
    first = cli("audit", "verify", "--anchors")
    assert first.exit_code == 0, first.output
    assert "No anchors yet" not in first.output
    assert check_line(first.output) == {"anchors": 1, "valid": 1, "broken": 0}

    assert cli("audit", "verify").exit_code == 0  # without --anchors: signs one, checks none
    assert "CHECK" not in cli("audit", "verify").output
    third = cli("audit", "verify", "--anchors")
    assert third.exit_code == 0, third.output
    assert check_line(third.output) == {"anchors": 4, "valid": 4, "broken": 0}
    assert "Signed anchors in" in third.output


def test_verify_with_anchors_finds_a_tail_cut_off_behind_the_chains_back(cli, db):
    assert cli("audit", "verify").exit_code == 0
    heads = dict(AuditHead.objects.values_list("id", "seq"))
    chain = max(heads, key=heads.get)
    cut_tail(chain, heads[chain] - 3)

    plain = cli("audit", "verify")
    assert plain.exit_code == 0, "the chains alone see nothing wrong"
    result = cli("audit", "verify", "--anchors")
    assert result.exit_code == 1, result.output
    assert "Audit journal intact" in result.output
    assert check_line(result.output) == {"anchors": 3, "valid": 2, "broken": 1}
    assert "rolled_back" in result.output  # the first anchor saw entries that are gone


def test_verify_with_anchors_finds_a_forged_line(cli, db, own_dirs):
    assert cli("audit", "verify").exit_code == 0
    (path,) = (own_dirs / "anchors").glob("anchors-*.jsonl")
    record = json.loads(path.read_text())
    record["entries"] += 1000
    with open(path, "a") as fh:
        fh.write(json.dumps(record) + "\n")
    result = cli("audit", "verify", "--anchors")
    assert result.exit_code == 1
    assert check_line(result.output) == {"anchors": 3, "valid": 2, "broken": 1}
    assert "bad_signature" in result.output


def test_a_copy_of_the_log_is_checked_with_anchor_log(cli, db, own_dirs):
    assert cli("audit", "verify").exit_code == 0
    (path,) = (own_dirs / "anchors").glob("anchors-*.jsonl")
    copy = own_dirs / "from-syslog.log"
    copy.write_text(
        "".join(f"Dec  7 02:30:00 app1 tongban-anchor: {line}\n" for line in path.read_text().splitlines())
    )
    result = cli("audit", "verify", "--anchor-log", copy)
    assert result.exit_code == 0, result.output
    assert check_line(result.output) == {"anchors": 1, "valid": 1, "broken": 0}
    empty = cli("audit", "verify", "--anchor-log", own_dirs / "nothing-here")
    assert "No anchors yet" in empty.output
    assert check_line(empty.output) == {"anchors": 0, "valid": 0, "broken": 0}


# --- backup and restore ---------------------------------------------------------------------------


def test_a_restore_onto_a_fresh_var_brings_the_materials_back(cli, seeded, own_dirs):
    import shutil

    from tests.cases.test_lifecycle import _data, _item
    from tongban.cases import services as cases

    case = cases.apply_online(
        actor("zhangsan"),
        item_code=_item(),
        data=_data(),
        files={"营业执照": samples.upload("licence.pdf", "L")},
    )
    material = case.materials.get(name="营业执照")
    path = own_dirs / "city.tbk"
    made = cli("backup", path)
    assert made.exit_code == 0, made.output
    assert re.search(  # Rich wraps a long path whatever the width
        r"Backup written: .*city\.tbk ?\(\w+ database [\d,]+ bytes, 1 files [\d,]+ bytes; sealed",
        made.output.replace("\n", ""),  # a wrap may fall on the space before "(", which it drops
    )

    shutil.rmtree(own_dirs / "var")
    restored = cli("restore", path, "--yes")
    assert restored.exit_code == 0, restored.output
    assert "seal verified" in restored.output and "1 files" in restored.output
    assert "Restored." in restored.output
    _name, _type, content = cases.material_file(actor("reviewer"), case.number, material.pk)
    assert content == samples.pdf("L")

    verified = cli("audit", "verify", "--anchors")
    assert verified.exit_code == 0, verified.output
    assert check_line(verified.output) == {"anchors": 2, "valid": 2, "broken": 0}  # the restore, this one


def test_an_altered_backup_is_refused_before_the_question(cli, seeded, own_dirs):
    path = own_dirs / "city.tbk"
    assert cli("backup", path).exit_code == 0
    with tarfile.open(path) as archive:
        manifest = archive.extractfile("manifest.json").read()
    # The same length, so the tar stays well formed: only the seal can tell.
    edited = manifest.replace(b'"tongban_version": "', b'"tongban_version":"9')
    assert len(edited) == len(manifest) and edited != manifest
    path.write_bytes(path.read_bytes().replace(manifest, edited))
    result = cli("restore", path)  # no --yes and no input: the question must not come
    assert result.exit_code == 1
    assert "Refused" in result.output and "checksum mismatch" in result.output
    assert "Replace the current database" not in result.output
