"""Plain SQL for the call path (services.query / services.verify), which runs on every shared-data
call: five short reads and one insert. Through the ORM, compiling those statements cost more than
running them (see core.sql); here each is a fixed string, and rows become model instances the way
the ORM would make them. Only this module and core.sql know the SQL; services decide.
"""

import json

from tongban.accounts.models import Department
from tongban.core import crypto, sql

from .models import Call, Grant, GrantStatus, Record, Resource

_DATA_CONTEXT = Record._meta.get_field("data")._context  # Record.data as EncryptedTextField encrypts it


# Per process: what the call path reads of the catalogue, valid for one policy version.
_cache: dict = {"version": None, "resources": {}, "negative": {}}


def policy_version() -> int:
    """The current policy version (PolicyStamp); a new one empties this process's cache."""
    row = sql.one("SELECT version FROM exchange_policystamp WHERE id = 1")
    version = row[0] if row else 0
    if version != _cache["version"]:
        _cache.update(version=version, resources={}, negative={})
    return version


def clear_cache() -> None:
    _cache.update(version=None, resources={}, negative={})


def bump_policy() -> None:
    """Move the policy version on; call inside the transaction that changes the policy."""
    if not sql.execute("UPDATE exchange_policystamp SET version = version + 1 WHERE id = 1").rowcount:
        sql.execute("INSERT INTO exchange_policystamp (id, version) VALUES (1, 1)")


def resource(code: str) -> Resource | None:
    """An active resource by code, with its provider department loaded (cached per policy version;
    call policy_version() first in the request)."""
    cached = _cache["resources"]
    if code in cached:
        return cached[code]
    found = sql.models(Resource, "code = %s AND is_active = %s", [code, True])
    item = None
    if found:
        item = found[0]
        item.provider = sql.models(Department, "id = %s", [item.provider_id])[0]
    cached[code] = item
    return item


def negative_fields(resource_id: int) -> set[str]:
    cached = _cache["negative"]
    if resource_id not in cached:
        cached[resource_id] = {
            row[0]
            for row in sql.all_rows(
                "SELECT field FROM exchange_negativeentry WHERE resource_id = %s", [resource_id]
            )
        }
    return cached[resource_id]


def grants_for(resource_id: int, paths: list[str]) -> list[Grant]:
    """Grants on the resource held by any of these departments (the caller's and its ancestors),
    rejected ones left out."""
    marks = ", ".join(["%s"] * len(paths))
    where = (
        "resource_id = %s AND status <> %s AND consumer_id IN "  # noqa: S608  (placeholders only)
        f"(SELECT id FROM accounts_department WHERE path IN ({marks}))"
    )
    return sql.models(Grant, where, [resource_id, GrantStatus.REJECTED, *paths])


def record_data(resource_id: int, indexes: list[str]) -> dict | None:
    """The decrypted record of the key (by its blind indexes): one lookup on (resource_id, key_index).
    Of duplicates, the most recently updated answers; a missing date counts as oldest."""
    marks = ", ".join(["%s"] * len(indexes))
    row = sql.one(
        f"SELECT data FROM exchange_record WHERE resource_id = %s AND key_index IN ({marks}) "  # noqa: S608
        "ORDER BY CASE WHEN updated_on IS NULL THEN 1 ELSE 0 END, updated_on DESC, row_number DESC LIMIT 1",
        [resource_id, *indexes],
    )
    return json.loads(crypto.decrypt(row[0], _DATA_CONTEXT)) if row else None


_CALL_COLUMNS = (
    "reference",
    "at",
    "consumer_id",
    "resource_id",
    "provider_id",
    "grant_id",
    "actor_label",
    "kind",
    "purpose",
    "fields",
    "predicate",
    "subject_masked",
    "outcome",
    "reason",
    "result_size",
    "latency_ms",
)
_INSERT_CALL = "INSERT INTO exchange_call ({}) VALUES ({})".format(  # noqa: S608  (fixed identifiers)
    ", ".join(_CALL_COLUMNS), ", ".join(["%s"] * len(_CALL_COLUMNS))
)


def insert_call(call: Call) -> None:
    sql.execute(
        _INSERT_CALL,
        [
            call.reference,
            sql.timestamp(call.at),
            call.consumer_id,
            call.resource_id,
            call.provider_id,
            call.grant_id,
            call.actor_label,
            call.kind,
            call.purpose,
            json.dumps(call.fields, ensure_ascii=False),
            call.predicate,
            call.subject_masked,
            call.outcome,
            call.reason,
            call.result_size,
            call.latency_ms,
        ],
    )


def all_record_data(resource_id: int) -> list[dict]:
    """Every held record of a resource whose key passed its checksum, decrypted, one per key: of
    duplicates the most recently updated (a missing date counts as oldest), as record_data answers.
    A batch call (services.extract) reads them; a key that fails its checksum names nobody for sure."""
    rows = sql.all_rows(
        "SELECT data FROM exchange_record WHERE resource_id = %s AND key_problem = '' "
        "ORDER BY CASE WHEN updated_on IS NULL THEN 0 ELSE 1 END, updated_on, row_number",
        [resource_id],
    )
    return [json.loads(text) for text in crypto.decrypt_many((row[0] for row in rows), _DATA_CONTEXT)]
