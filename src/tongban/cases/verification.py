"""Verification results the 秒批 rules can read as `check.<name>`.

Each check is a named function of the case being decided. The rules (cases.rules) only read the
values; what a check looks at — our own records, and e-licences through the licence library's
services — stays here, in code we ship.
A check that cannot answer returns None, which no rule cell but "-" accepts.
"""

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from tongban.accounts.models import Enterprise, Person
from tongban.core.identifiers import id_number_facts

from .models import Case, CaseMaterial, CaseStatus, MaterialStatus


class Subject:
    """What checks may look at: the case and, loaded once on demand, the people behind it."""

    def __init__(self, case, target):
        self.case, self.target = case, target
        self._person = self._enterprise = None

    @property
    def person(self) -> Person | None:
        if self._person is None:
            self._person = Person.objects.filter(pk=self.case.applicant_id).first()
        return self._person

    @property
    def enterprise(self) -> Enterprise | None:
        if self._enterprise is None and self.case.enterprise_id:
            self._enterprise = Enterprise.objects.filter(pk=self.case.enterprise_id).first()
        return self._enterprise


Check = Callable[[Subject], object]
_checks: dict[str, tuple[Check, str]] = {}


def register(name: str, label: str):
    """Add a check under a name rules can use (e.g. the licence app adds `licence_valid`)."""

    def decorate(fn: Check) -> Check:
        _checks[name] = (fn, label)
        return fn

    return decorate


def available() -> dict[str, str]:
    """Name → label of every check, for the rule editor."""
    return {name: label for name, (_fn, label) in sorted(_checks.items())}


def run(case, target, names=None) -> dict:
    subject = Subject(case, target)
    results = {}
    for name, (fn, _label) in _checks.items():
        if names is not None and name not in names:
            continue
        try:
            results[name] = fn(subject)
        except (ValueError, LookupError):
            results[name] = None
    return results


def _age(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@register("applicant_age", "申请人年龄 applicant's age")
def applicant_age(subject: Subject):
    person = subject.person
    if person is None:
        return None
    return _age(id_number_facts(person.id_number).birth_date, timezone.localdate())


@register("applicant_region", "申请人户籍地区划 region of the applicant's ID")
def applicant_region(subject: Subject):
    person = subject.person
    return id_number_facts(person.id_number).region_code if person else None


@register("applicant_has_account", "申请人实名注册 applicant registered with real name")
def applicant_has_account(subject: Subject):
    person = subject.person
    return bool(person and person.user_id)


@register("enterprise_registered", "企业已登记 enterprise on record")
def enterprise_registered(subject: Subject):
    if not subject.case.enterprise_id:
        return None
    return subject.enterprise is not None


@register("materials_complete", "材料齐全 every required material provided")
def materials_complete(subject: Subject):
    return (
        not CaseMaterial.objects.filter(case_id=subject.case.id, required=True)
        .exclude(status=MaterialStatus.PROVIDED)
        .exists()
    )


@register("duplicate_open_case", "同一事项在办 another open case for the same item")
def duplicate_open_case(subject: Subject):
    case = subject.case
    if not case.item_version_id:
        return None
    return (
        Case.objects.filter(
            applicant_id=case.applicant_id,
            item_version__item_id=subject.target.item.item_id,
            status__in=(
                CaseStatus.SUBMITTED,
                CaseStatus.IN_PROGRESS,
                CaseStatus.SUPPLEMENT,
                CaseStatus.DECIDED,
            ),
        )
        .exclude(pk=case.id)
        .exists()
    )


@register("enterprise_licensed", "企业营业执照有效 the enterprise's business licence is in force")
def enterprise_licensed(subject: Subject):
    """None when the case is not for an enterprise."""
    from tongban.licences import services as licences

    enterprise = subject.enterprise
    if enterprise is None:
        return None
    return licences.valid_licence("business_licence", uscc=enterprise.uscc) is not None


@register("applicant_id_licence", "申请人身份证电子证照有效 the applicant's ID e-licence is in force")
def applicant_id_licence(subject: Subject):
    from tongban.licences import services as licences

    person = subject.person
    if person is None:
        return None
    return licences.valid_licence("resident_id", person=person) is not None


@register("materials_prechecked", "智能预审通过 every uploaded material read and matching the application")
def materials_prechecked(subject: Subject):
    """None until every pre-checkable upload has been read (the rules then leave the case to a person)."""
    from .services import prechecks

    return prechecks.passed(subject.case.id)
