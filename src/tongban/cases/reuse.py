"""免提交: materials the government already holds, found for an applicant who consents to their use.

A catalogue material names the e-licence type (`licence_type`) or the shared-data query
(`data_query`) that can stand in for the paper. Which licences a holder has, and what a shared-data
query answers, is known to the licence library and the exchange; they register finders here, so the
cases app never imports them (the dependency points one way, ARCHITECTURE.md).

A finder is called with a `Holder` and the licence type or query code and returns a `Found` when it
can satisfy the material, or None. It must not raise for "not found": an exception is a fault of
the source and is reported as such (the material then simply stays to be provided).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from tongban.accounts.models import Department, Enterprise, Person

log = logging.getLogger(__name__)

LICENCE = "licence"
SHARED = "shared"


@dataclass
class Holder:
    """Who applies: the person and, when they act for one, the enterprise; and which department
    will rely on the material (the consumer of a shared-data query)."""

    person: Person | None
    enterprise: Enterprise | None = None
    department: Department | None = None
    purpose: str = ""


@dataclass
class Found:
    """What stands in for a material: where it came from and a line a clerk can read."""

    source: str  # LICENCE | SHARED
    reference: str  # the licence code, or the query call's reference
    summary: str  # e.g. "营业执照 4Q2M-…, 有效期至 2030-05-01"
    detail: dict = field(default_factory=dict)


Finder = Callable[[Holder, str], Found | None]
_finders: dict[str, list[Finder]] = {LICENCE: [], SHARED: []}


def register(kind: str, finder: Finder) -> Finder:
    """Add a finder for licence types (LICENCE) or shared-data queries (SHARED)."""
    if finder not in _finders[kind]:
        _finders[kind].append(finder)
    return finder


def find(holder: Holder, *, licence_type: str = "", data_query: str = "") -> Found | None:
    """The first source that satisfies the material: a licence the holder has, then shared data."""
    for kind, code in ((LICENCE, licence_type), (SHARED, data_query)):
        if not code:
            continue
        for finder in _finders[kind]:
            try:
                found = finder(holder, code)
            except Exception:  # a source's fault must not stop the application
                log.exception("reuse finder %s failed for %s", getattr(finder, "__name__", finder), code)
                continue
            if found is not None:
                return found
    return None


def find_all(holder: Holder, materials: list[dict]) -> dict[str, Found]:
    """Material name → what satisfies it, for materials given as dicts with name, licence_type and
    data_query (as the application's target lists them)."""
    found = {}
    representative = None
    for material in materials:
        licence_type, data_query = material.get("licence_type", ""), material.get("data_query", "")
        if not (licence_type or data_query):
            continue
        subject = holder
        if holder.enterprise is not None and "法定代表人" in material["name"]:
            # The legal representative's own certificate, whoever applies for the enterprise.
            if representative is None:
                representative = holder.enterprise.legal_representative or holder.person
            subject = Holder(representative, holder.enterprise, holder.department, holder.purpose)
        hit = find(subject, licence_type=licence_type, data_query=data_query)
        if hit is not None:
            found[material["name"]] = hit
    return found
