"""People, enterprises, staff and the organisation they work in.

Personal data (ID and phone numbers) is stored SM4-encrypted with a keyed SM3 hash beside it
for exact-match lookup; see core.fields and docs/security.md.
"""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core import crypto
from tongban.core.fields import EncryptedTextField
from tongban.core.i18n import Later
from tongban.core.masking import mask_id_number, mask_name, mask_phone


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("province")
    CITY = "city", _("city")
    COUNTY = "county", _("county")
    TOWNSHIP = "township", _("township")
    VILLAGE = "village", _("village")


class Region(models.Model):
    """An administrative division (GB/T 2260)."""

    code = models.CharField(_("region code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=60)
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return f"{self.name} ({self.code})"


class DepartmentKind(models.TextChoices):
    GOVERNMENT = "government", _("people's government")
    BUREAU = "bureau", _("bureau / commission / office")
    SECTION = "section", _("section / unit")
    CENTRE = "centre", _("service centre operator")


class Department(models.Model):
    """A government organ or one of its sections. Departments form a tree; `path` holds the codes
    from the root ("/gov/xzspj/zhslk/") so a sub-tree is one indexed prefix query."""

    code = models.CharField(_("department code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=DepartmentKind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="departments"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=400, db_index=True, editable=False)
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name

    def build_path(self) -> str:
        return (self.parent.path if self.parent_id else "/") + self.code + "/"

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def contains(self, other: "Department") -> bool:
        return other.path.startswith(self.path)


class ServiceCentre(models.Model):
    """A 政务服务中心 (government service hall) with its windows."""

    code = models.CharField(_("centre code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    department = models.ForeignKey(
        Department, verbose_name=_("operating department"), on_delete=models.PROTECT, related_name="centres"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service centre")
        verbose_name_plural = _("service centres")

    def __str__(self):
        return self.name


class WindowKind(models.TextChoices):
    COMPREHENSIVE = "comprehensive", _("comprehensive window (any item)")
    SPECIALISED = "specialised", _("department window")
    ENTERPRISE = "enterprise", _("enterprise services window")
    HELP = "help", _("help desk (办不成事反映)")


class Window(models.Model):
    centre = models.ForeignKey(
        ServiceCentre, verbose_name=_("service centre"), on_delete=models.PROTECT, related_name="windows"
    )
    number = models.CharField(_("window number"), max_length=10)
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=15, choices=WindowKind.choices)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="windows",
        help_text=_("For department windows: whose items it takes."),
    )
    is_active = models.BooleanField(_("open"), default=True)

    class Meta:
        ordering = ["centre", "number"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "number"], name="window_number_unique_in_centre")
        ]
        verbose_name = _("window")
        verbose_name_plural = _("windows")

    def __str__(self):
        return f"{self.number} {self.name}"


# --- users --------------------------------------------------------------------------------------


class UserKind(models.TextChoices):
    CITIZEN = "citizen", _("citizen or enterprise user")
    STAFF = "staff", _("staff")
    SYSTEM = "system", _("system (API client)")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username, password=None, **extra):
        if not username:
            raise ValueError("username is required")
        user = self.model(username=username, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username, password=None, **extra):
        extra.setdefault("kind", UserKind.STAFF)
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A login. Its kind says whether a citizen, a staff member or another system is behind it."""

    username = models.CharField(_("username"), max_length=60, unique=True)
    display_name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=UserKind.choices)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("may use the admin site"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["display_name", "kind"]

    class Meta:
        constraints = [
            # One spelling per account: `ADMIN` cannot sit beside `admin` (accounts.usernames).
            models.UniqueConstraint(Lower("username"), name="username_unique_ignoring_case"),
        ]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.username

    def get_full_name(self):
        return self.display_name

    def get_short_name(self):
        return self.display_name

    @property
    def needs_second_factor(self) -> bool:
        return self.kind == UserKind.STAFF


class Role(models.TextChoices):
    CLERK = "clerk", _("window clerk")
    REVIEWER = "reviewer", _("reviewer")
    SECTION_HEAD = "section_head", _("section head")
    DIVISION_HEAD = "division_head", _("division head")
    BUREAU_HEAD = "bureau_head", _("bureau head")
    SUPERVISOR = "supervisor", _("efficiency supervisor")
    DATA_OFFICER = "data_officer", _("data officer")
    ADMIN = "admin", _("administrator")
    HOTLINE_OPERATOR = "hotline_operator", _("hotline operator (坐席)")


class Staff(models.Model):
    """A staff member (or a system account) belonging to one department."""

    user = models.OneToOneField(User, primary_key=True, on_delete=models.CASCADE, related_name="staff")
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="staff"
    )
    title = models.CharField(_("job title"), max_length=60, blank=True)
    employee_number = models.CharField(_("employee number"), max_length=30, blank=True)
    phone = EncryptedTextField(_("mobile number"), blank=True)
    window = models.ForeignKey(
        Window,
        verbose_name=_("window"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )

    class Meta:
        ordering = ["department__path", "user__username"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self):
        return f"{self.user.display_name} ({self.department})"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class RoleAssignment(models.Model):
    """A role held in a department, optionally over its whole sub-tree. Holding a role on another
    department is how access beyond one's own department is granted."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("scope"), on_delete=models.PROTECT, related_name="role_assignments"
    )
    include_subtree = models.BooleanField(_("includes sub-departments"), default=False)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        ordering = ["staff", "role"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "role", "department"], name="role_assignment_unique")
        ]
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")

    def __str__(self):
        return f"{self.staff.user.username}: {self.get_role_display()} @ {self.department.code}"


# --- citizens and enterprises -------------------------------------------------------------------

ID_NUMBER_CONTEXT = "accounts.Person.id_number"
PHONE_CONTEXT = "accounts.Person.phone"


class PersonQuerySet(models.QuerySet):
    def with_id_number(self, normalised: str) -> "PersonQuerySet":
        """Exact match on an (already normalised) ID number through its blind index."""
        return self.filter(id_number_index__in=crypto.blind_indexes(normalised, ID_NUMBER_CONTEXT))


class AssuranceLevel(models.IntegerChoices):
    """How sure we are that the account bound to a person is that person (实名认证等级)."""

    NONE = 0, _("not verified")
    REAL_NAME = 1, _("L1 · real name checked against the population register")
    PHONE = 2, _("L2 · real name and mobile number verified")
    IN_PERSON = 3, _("L3 · verified in person or by face check")


class Person(models.Model):
    """A natural person (自然人). The ID number is the national key; it is stored encrypted.

    `assurance_level` is how sure we are that `user` is this person; it belongs to the binding, so
    it starts again whenever the person is bound to another account. How and when each level was
    reached is in `verifications` (and the journal)."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=50)
    id_number = EncryptedTextField(_("ID number"))
    id_number_index = models.CharField(max_length=64, unique=True, editable=False)
    phone = EncryptedTextField(_("mobile number"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="person")
    assurance_level = models.PositiveSmallIntegerField(
        _("identity assurance"), choices=AssuranceLevel.choices, default=AssuranceLevel.NONE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self):
        return mask_name(self.name)

    def save(self, *args, **kwargs):
        self.id_number_index = self.index_id_number(self.id_number)
        self.phone_index = self.index_phone(self.phone or "")
        super().save(*args, **kwargs)

    @staticmethod
    def index_id_number(normalised: str) -> str:
        return crypto.blind_index(normalised, ID_NUMBER_CONTEXT)

    @staticmethod
    def index_phone(normalised: str) -> str:
        return crypto.blind_index(normalised, PHONE_CONTEXT) if normalised else ""

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)


class Enterprise(models.Model):
    """A legal person (法人), identified by its unified social credit code, which is public."""

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=120)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uscc"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")

    def __str__(self):
        return self.name

    @property
    def legal_representative(self) -> "Person | None":
        link = self.representatives.filter(kind=RepresentationKind.LEGAL_REPRESENTATIVE).select_related(
            "person"
        )
        first = link.first()
        return first.person if first else None


class RepresentationKind(models.TextChoices):
    LEGAL_REPRESENTATIVE = "legal_representative", _("legal representative")
    AGENT = "agent", _("authorised agent (经办人)")


class Representation(models.Model):
    """A person who may act for an enterprise: its legal representative or an agent it authorised."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="representations")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="representatives")
    kind = models.CharField(_("kind"), max_length=25, choices=RepresentationKind.choices)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "enterprise"], name="representation_unique"),
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(kind="legal_representative"),
                name="one_legal_representative",
            ),
        ]
        verbose_name = _("representation")
        verbose_name_plural = _("representations")

    def __str__(self):
        return f"{self.person} → {self.enterprise} ({self.kind})"

    def is_current(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.valid_until is None or self.valid_until >= today


# --- identity assurance (实名认证) ----------------------------------------------------------------


class VerificationMethod(models.TextChoices):
    POPULATION_REGISTER = "population_register", _("population register (公安人口库)")
    SMS = "sms", _("SMS code to the mobile number")
    WINDOW = "window", _("in person at a window")
    FACE_CHECK = "face_check", _("face check")
    SEED = "seed", _("demo data (set by the seed)")


class IdentityVerification(models.Model):
    """One level reached: by which method, on what evidence (an exchange call's reference, the
    masked number an SMS code went to, the clerk, the face-check service's reference), when."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="verifications")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), choices=AssuranceLevel.choices)
    method = models.CharField(_("method"), max_length=24, choices=VerificationMethod.choices)
    evidence = models.CharField(_("evidence"), max_length=120, blank=True)
    verified_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified"), default=timezone.now)

    class Meta:
        ordering = ["-verified_at", "-id"]
        verbose_name = _("identity verification")
        verbose_name_plural = _("identity verifications")

    def __str__(self):
        return f"{self.person_id}: L{self.level} {self.method}"


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("waiting for online verification")
    WINDOW = "window", _("to be verified at a window")
    VERIFIED = "verified", _("verified")
    REJECTED = "rejected", _("rejected")


class IdentityClaim(models.Model):
    """What a self-registered account says it is: a name, an ID number and a mobile number.

    No Person is bound until the claim is verified — online against the population register (L1),
    or at a window. A claim on an ID number already bound to another account can only be settled
    at a window; the registrant is told nothing that would show a stranger the number is taken.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identity_claims")
    name = models.CharField(_("name"), max_length=50)
    id_number = EncryptedTextField(_("ID number"))
    id_number_index = models.CharField(max_length=64, db_index=True, editable=False)
    phone = EncryptedTextField(_("mobile number"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING
    )
    register_match = models.BooleanField(_("matches the population register"), null=True, blank=True)
    register_reference = models.CharField(max_length=40, blank=True)
    online_attempts = models.PositiveSmallIntegerField(default=0)
    attempts_since = models.DateTimeField(null=True, blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims"
    )
    created_at = models.DateTimeField(_("made"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolution_note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="identity_claim_queue")]
        verbose_name = _("identity claim")
        verbose_name_plural = _("identity claims")

    def __str__(self):
        return f"{self.public_id} ({self.status})"

    def save(self, *args, **kwargs):
        self.id_number_index = Person.index_id_number(self.id_number)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in (ClaimStatus.PENDING, ClaimStatus.WINDOW)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)


class PhoneChallenge(models.Model):
    """An SMS code sent to prove a mobile number (L2). Only a keyed SM3 of the code is kept; it
    expires, allows a few tries, and the next one waits for a cool-down."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phone_challenges")
    phone = EncryptedTextField(_("mobile number"))
    code_digest = models.CharField(max_length=64)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["person", "sent_at"], name="phone_challenge_recent")]
        verbose_name = _("phone challenge")
        verbose_name_plural = _("phone challenges")

    def __str__(self):
        return f"{self.person_id} @ {self.sent_at:%Y-%m-%d %H:%M}"


# --- API tokens for other systems ---------------------------------------------------------------


class ApiToken(models.Model):
    """A bearer token for a system account. Only a keyed hash is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=60)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


# --- notifications ------------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    CASE = "case", _("case update")
    REMINDER = "reminder", _("reminder (催办)")
    ESCALATION = "escalation", _("escalation")
    ALERT = "alert", _("alert")


class Notification(models.Model):
    """A message in someone's inbox: case news for applicants, reminders and escalations for staff.

    Messages carry no personal data beyond what the recipient may already see; the link leads to
    the page where the usual access checks apply.
    """

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=12, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(max_length=300, blank=True)
    subject = models.CharField(_("about"), max_length=80, blank=True, help_text=_("e.g. a case number"))
    # The title and body as msgids and parameters (core.i18n.Later), so each reader reads them in
    # their own language; `title` and `body` keep the words in the site's language, for messages
    # written before this and for searching.
    message = models.JSONField(_("message keys"), default=dict, blank=True)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "created_at"], name="inbox")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return f"{self.recipient_id}: {self.title}"

    @property
    def title_text(self) -> str:
        """The title in the language of whoever reads it now."""
        later = Later.from_json((self.message or {}).get("title"))
        return str(later) if later is not None else self.title

    @property
    def body_text(self) -> str:
        later = Later.from_json((self.message or {}).get("body"))
        return str(later) if later is not None else self.body


class AuthorityStamp(models.Model):
    """One row whose version goes up whenever accounts, staff, roles, departments or devices change.

    Each app process caches who-may-do-what for a user under the current version; reading this row
    (at most once a second per process) is what keeps every process's cache honest, with no shared
    cache server needed.
    """

    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("authority stamp")
        verbose_name_plural = _("authority stamps")

    def __str__(self):
        return str(self.version)
