"""Concurrent sign-offs: every one gets its own 发文字号, and the serials run without a gap.

Each thread signs with its own database connection (on PostgreSQL a server session of its own), so
the sign-offs really race for the code's counter row; a thread that fails its sign-off rolls back
and must leave no hole behind."""

import threading

import pytest
from django.db import connection, connections

from tongban.documents import services
from tongban.documents.models import Document, NumberCounter, Status

from ..conftest import actor
from .conftest import draft_fields

SIGNERS = 12


def _file_backed() -> bool:
    name = str(connection.settings_dict.get("NAME", ""))
    return not (connection.vendor == "sqlite" and (name in (":memory:", "") or "mode=memory" in name))


@pytest.mark.django_db(transaction=True)
def test_concurrent_sign_offs_get_distinct_consecutive_numbers(seeded):
    if not _file_backed():
        pytest.skip("in-memory SQLite is one connection")
    reviewer = actor("reviewer")
    refs = [services.create_draft(reviewer, **draft_fields(title=f"通知{i}")).ref for i in range(SIGNERS)]
    # One draft is not ready for sign-off (no issuer): its sign-off fails inside the transaction,
    # after the others have started, and must not consume a serial.
    broken = services.create_draft(reviewer, **draft_fields(title="缺署名"))
    Document.objects.filter(pk=broken.pk).update(issuer_name="")
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(SIGNERS + 1)

    def signer(ref):
        try:
            start.wait()
            document = services.sign(actor("bureau_head"), ref)
            with lock:
                results.append(document.number)
        except BaseException as exc:  # reported below
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=signer, args=(ref,)) for ref in [*refs, broken.ref]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1 and errors[0].__class__.__name__ == "InvalidInput", errors
    assert len(results) == SIGNERS and len(set(results)) == SIGNERS
    signed = Document.objects.filter(status=Status.SIGNED)
    serials = sorted(signed.values_list("number_serial", flat=True))
    assert serials == list(range(1, SIGNERS + 1))
    assert NumberCounter.objects.get(agency_code="市监局发").last_serial == SIGNERS
    ledger = services.number_ledger(actor("bureau_head"), "市监局发", signed.first().number_year)
    assert {line.state for line in ledger} == {"used"}
