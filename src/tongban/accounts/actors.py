"""The caller of a service: who it is, which roles it holds where, and what follows from that."""

import threading
import time
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Q
from django.utils import timezone

from .models import Person, Representation, Role, RoleAssignment, Staff, User, UserKind
from .roles import ROLE_PERMISSIONS, SCOPED


@dataclass(frozen=True)
class Grant:
    role: str
    department_id: int
    department_code: str
    department_name: str
    path: str
    include_subtree: bool
    permissions: frozenset[str]

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)

    def covers(self, department) -> bool:
        return department.path == self.path or (
            self.include_subtree and department.path.startswith(self.path)
        )


class Actor:
    """An authenticated user (citizen, staff member or system) as the services see it."""

    is_authenticated = True
    is_system = False

    def __init__(self, user: User):
        self.user = user

    def __repr__(self):
        return f"<Actor {self.user.username} {self.user.kind}>"

    @property
    def kind(self) -> str:
        return self.user.kind

    @property
    def is_citizen(self) -> bool:
        return self.user.kind == UserKind.CITIZEN

    @property
    def is_staff_member(self) -> bool:
        return self.user.kind in (UserKind.STAFF, UserKind.SYSTEM)

    @cached_property
    def _authority(self) -> tuple[Staff | None, tuple[Grant, ...]]:
        """The staff record and role grants, shared between requests for a short while (see below)."""
        if not self.is_staff_member:
            return None, ()
        return authority_of(self.user)

    @cached_property
    def staff(self) -> Staff | None:
        return self._authority[0]

    @cached_property
    def person(self) -> Person | None:
        if not self.is_citizen:
            return None
        return Person.objects.filter(user=self.user).first()

    @cached_property
    def represented(self) -> frozenset[int]:
        """Ids of the enterprises this citizen may act for today (legal representative or agent)."""
        if self.person is None:
            return frozenset()
        today = timezone.localdate()
        return frozenset(
            Representation.objects.filter(person=self.person)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
            .values_list("enterprise_id", flat=True)
        )

    @cached_property
    def grants(self) -> tuple[Grant, ...]:
        if not self.user.is_active:
            return ()
        return self._authority[1]

    @property
    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    def can(self, permission: str, scope=None) -> bool:
        """May this actor use `permission`, on objects of department `scope` for scoped permissions?

        With no scope, a scoped permission asks "anywhere at all?" (e.g. to show a menu entry).
        """
        for grant in self.grants:
            if permission not in grant.permissions:
                continue
            if permission not in SCOPED or scope is None or grant.covers(scope):
                return True
        return False

    def scope_q(self, permission: str, path_field: str = "department__path") -> Q:
        """A filter restricting a queryset to the departments where `permission` applies."""
        q = Q(pk__in=[])
        for grant in self.grants:
            if permission in grant.permissions:
                if grant.include_subtree:
                    q |= Q(**{f"{path_field}__startswith": grant.path})
                else:
                    q |= Q(**{path_field: grant.path})
        return q

    def audit_identity(self) -> tuple[int | None, str]:
        return self.user.pk, self.user.username


class AnonymousActor:
    is_authenticated = False
    is_system = False
    is_citizen = False
    is_staff_member = False
    user = None
    staff = None
    person = None
    grants = ()
    roles: set[str] = set()

    def can(self, permission: str, scope=None) -> bool:
        return False

    def scope_q(self, permission: str, path_field: str = "department__path") -> Q:
        return Q(pk__in=[])

    def audit_identity(self) -> tuple[int | None, str]:
        return None, "anonymous"


ANONYMOUS = AnonymousActor()


def actor_for_user(user) -> Actor | AnonymousActor:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    return Actor(user)


def actor_for_request(request) -> Actor | AnonymousActor:
    """Staff who have not passed their second factor in this session count as anonymous."""
    cached = getattr(request, "_tongban_actor", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    actor = actor_for_user(user)
    if actor.is_authenticated and user.needs_second_factor and not _otp_verified(user):
        actor = ANONYMOUS
    request._tongban_actor = actor
    return actor


def _otp_verified(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


# --- who may do what, cached between requests ------------------------------------------------------

# Every staff request needs the user, their second-factor device, the staff record and the role
# grants: four queries before any work. They are cached per process under the version of the
# authority stamp (AuthorityStamp), which any change to users, devices, staff, roles or departments
# bumps in the same transaction; a process re-reads the stamp at most every STAMP_SECONDS, so a
# revoked role or a deactivated account stops working everywhere within that second. Grants that
# expire by date are dropped on time (the cache entry lives no longer than the nearest expiry).
AUTHORITY_SECONDS = 60
STAMP_SECONDS = 1.0
_stamp: list = [0.0, -1]  # [checked at (monotonic), version]
_stamp_lock = threading.Lock()


def authority_version() -> int:
    now = time.monotonic()
    if now - _stamp[0] < STAMP_SECONDS:
        return _stamp[1]
    from tongban.core import sql

    row = sql.one("SELECT version FROM accounts_authoritystamp WHERE id = 1")
    with _stamp_lock:
        _stamp[0], _stamp[1] = now, row[0] if row else 0
    return _stamp[1]


def bump_authority_version(**_kwargs) -> None:
    """Called on every change that may alter someone's authority (see accounts.signals)."""
    from tongban.core import sql

    if not sql.execute("UPDATE accounts_authoritystamp SET version = version + 1 WHERE id = 1").rowcount:
        sql.execute("INSERT INTO accounts_authoritystamp (id, version) VALUES (1, 1)")
    forget_authority()


def forget_authority() -> None:
    """This process re-reads the stamp on next use (tests, and right after a change here)."""
    with _stamp_lock:
        _stamp[0], _stamp[1] = 0.0, -1


def _cache_key(kind: str, ident) -> str:
    return f"accounts:{kind}:{ident}:{authority_version()}"


def cached_user(user_id):
    """The active user with this id (or None), from the per-process cache."""
    from django.core.cache import cache

    key = _cache_key("user", user_id)
    found = cache.get(key)
    if found is None:
        found = User.objects.filter(pk=user_id).first() or False
        cache.set(key, found, AUTHORITY_SECONDS)
    return found or None


def cached_device(persistent_id: str):
    from django.core.cache import cache
    from django_otp.models import Device

    key = _cache_key("device", persistent_id)
    found = cache.get(key)
    if found is None:
        found = Device.from_persistent_id(persistent_id) or False
        cache.set(key, found, AUTHORITY_SECONDS)
    return found or None


def authority_of(user) -> tuple[Staff | None, tuple[Grant, ...]]:
    from django.core.cache import cache

    key = _cache_key("authority", user.pk)
    cached = cache.get(key)
    if cached is not None:
        return cached
    staff = Staff.objects.select_related("department", "window").filter(user=user).first()
    now = timezone.now()
    grants: tuple[Grant, ...] = ()
    ttl = AUTHORITY_SECONDS
    if staff is not None:
        rows = list(
            RoleAssignment.objects.filter(staff=staff)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .select_related("department")
        )
        grants = tuple(
            Grant(
                r.role,
                r.department_id,
                r.department.code,
                r.department.name,
                r.department.path,
                r.include_subtree,
                ROLE_PERMISSIONS.get(r.role, frozenset()),
            )
            for r in rows
        )
        expiring = [r.expires_at for r in rows if r.expires_at is not None]
        if expiring:
            # A grant that runs out is dropped on time, not up to a minute late.
            ttl = max(1, min(ttl, int((min(expiring) - now).total_seconds())))
    cache.set(key, (staff, grants), ttl)
    return staff, grants
