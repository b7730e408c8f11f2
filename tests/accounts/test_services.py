"""Account services beyond permissions: key rotation of personal data."""

from django.db import connection

from tongban.accounts import services
from tongban.accounts.models import Person
from tongban.core.authz import SYSTEM

OLD_KEY = "aa" * 32
NEW_KEY = "bb" * 32


def _raw(person_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_number_index FROM accounts_person WHERE id = %s", [person_id])
        return cursor.fetchone()


def test_rotation_keeps_lookups_working_and_rekey_moves_rows_to_the_new_key(db, settings):
    seeded_under = settings.TONGBAN_MASTER_KEY  # the demo city's rows
    settings.TONGBAN_MASTER_KEY = OLD_KEY
    settings.TONGBAN_MASTER_KEYS_OLD = [seeded_under]
    person = services.register_person(SYSTEM, name="赵六", id_number="11010519491231002X")
    old_cipher, old_index = _raw(person.pk)

    # Rotate: the old key becomes a retired key. Rows still decrypt and are still found.
    settings.TONGBAN_MASTER_KEY = NEW_KEY
    settings.TONGBAN_MASTER_KEYS_OLD = [OLD_KEY, seeded_under]
    assert Person.objects.get(pk=person.pk).id_number == "11010519491231002X"
    assert services.find_person_by_id_number("11010519491231002X").pk == person.pk

    count = services.rekey_personal_data(SYSTEM)
    assert count >= 1
    new_cipher, new_index = _raw(person.pk)
    assert new_cipher != old_cipher and new_index != old_index

    # Once every row is re-keyed the retired keys can go.
    settings.TONGBAN_MASTER_KEYS_OLD = []
    assert Person.objects.get(pk=person.pk).id_number == "11010519491231002X"
    assert all(p.id_number for p in Person.objects.all())
    assert services.find_person_by_id_number("11010519491231002X").pk == person.pk
