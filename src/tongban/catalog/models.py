"""The service catalogue (事项中心): items, their versions and materials, and bundles (一件事).

An item's content lives in versions. Publishing freezes a version; editing works on a draft
copied from the published one; cases keep the version they were filed under. The models refuse
changes to frozen versions themselves, so no code path can rewrite what a case was judged by.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Department, User
from tongban.core.errors import Conflict


class Audience(models.TextChoices):
    """服务对象: whom an item serves, which puts it under the portal's 个人服务 or 法人服务 tab."""

    PERSON = "person", _("natural persons (个人)")
    ENTERPRISE = "enterprise", _("enterprises and organisations (法人)")
    BOTH = "both", _("both (个人和法人)")


class ItemType(models.TextChoices):
    """事项类型, with the codes of the national integrated platform (taskType)."""

    LICENSING = "licensing", _("administrative licensing (行政许可)")
    PENALTY = "penalty", _("administrative penalty (行政处罚)")
    ENFORCEMENT = "enforcement", _("administrative enforcement (行政强制)")
    LEVY = "levy", _("administrative levy (行政征收)")
    BENEFIT = "benefit", _("administrative benefit (行政给付)")
    INSPECTION = "inspection", _("administrative inspection (行政检查)")
    CONFIRMATION = "confirmation", _("administrative confirmation (行政确认)")
    REWARD = "reward", _("administrative reward (行政奖励)")
    ADJUDICATION = "adjudication", _("administrative adjudication (行政裁决)")
    OTHER_POWER = "other_power", _("other administrative power (其他行政权力)")
    PUBLIC_SERVICE = "public_service", _("public service (公共服务)")


# taskType codes used by the national and provincial platforms.
TASK_TYPE_CODES = {
    "1": ItemType.LICENSING,
    "2": ItemType.PENALTY,
    "3": ItemType.ENFORCEMENT,
    "4": ItemType.LEVY,
    "5": ItemType.BENEFIT,
    "6": ItemType.INSPECTION,
    "7": ItemType.CONFIRMATION,
    "8": ItemType.REWARD,
    "9": ItemType.ADJUDICATION,
    "10": ItemType.OTHER_POWER,
    "20": ItemType.PUBLIC_SERVICE,
}


class OnlineLevel(models.TextChoices):
    FULL_ONLINE = "full_online", _("fully online (全程网办)")
    PRE_REVIEW = "pre_review", _("online pre-review (网上预审)")
    OFFLINE = "offline", _("in person (线下办理)")


class RiskLevel(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    SUPERSEDED = "superseded", _("superseded")


class FrozenVersion(Conflict):
    """A published version was about to change. Services never try; this is the last guard."""

    code = "frozen_version"


class Version(models.Model):
    """What item and bundle versions share: a number, a status, and who published it when.

    A version that is no longer a draft is frozen: saving a change to it raises, except the move
    from published to superseded.
    """

    FROZEN_EXEMPT = frozenset({"status", "superseded_at"})

    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk:
            stored = type(self).objects.filter(pk=self.pk).values().first()
            if stored and stored["status"] != VersionStatus.DRAFT:
                changed = {
                    f.attname
                    for f in self._meta.concrete_fields
                    if getattr(self, f.attname) != stored[f.attname]
                }
                if changed - self.FROZEN_EXEMPT:
                    raise FrozenVersion(f"{self} is {stored['status']}: edit a draft instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != VersionStatus.DRAFT:
            raise FrozenVersion("published versions are kept: cases refer to them")
        return super().delete(*args, **kwargs)

    def mark_superseded(self) -> None:
        self.status = VersionStatus.SUPERSEDED
        self.superseded_at = timezone.now()
        self.save(update_fields=["status", "superseded_at"])


class ServiceItem(models.Model):
    """A service item's identity: its national code and owning department. Content is in versions."""

    code = models.CharField(_("item code"), max_length=80, unique=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("implementing department"),
        on_delete=models.PROTECT,
        related_name="service_items",
    )
    current = models.OneToOneField(
        "ItemVersion",
        verbose_name=_("published version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(
        _("source"),
        max_length=20,
        default="local",
        help_text=_("Where the item came from: import, demo or local."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service item")
        verbose_name_plural = _("service items")

    def __str__(self):
        return f"{self.code} {self.current.name if self.current_id else ''}"


class ItemVersion(Version):
    """Everything DOMAIN.md lists about an item, as of one version."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="versions")
    name = models.CharField(_("name"), max_length=200)
    parent_name = models.CharField(_("main item"), max_length=200, blank=True, help_text=_("主事项"))
    item_type = models.CharField(_("type"), max_length=20, choices=ItemType.choices)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    conditions = models.TextField(_("conditions of acceptance"), blank=True)
    statutory_limit_days = models.PositiveIntegerField(
        _("statutory limit (working days)"), null=True, blank=True
    )
    promised_limit_days = models.PositiveIntegerField(
        _("promised limit (working days)"),
        null=True,
        blank=True,
        help_text=_("0 means handled on the spot (即办件)."),
    )
    fee = models.CharField(_("fee"), max_length=200, blank=True, default="不收费")
    risk_level = models.CharField(
        _("risk level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    online_level = models.CharField(
        _("online level"), max_length=12, choices=OnlineLevel.choices, default=OnlineLevel.OFFLINE
    )
    visits_required = models.PositiveSmallIntegerField(
        _("visits required"), default=1, help_text=_("跑动次数: in-person visits a case needs.")
    )
    high_frequency = models.BooleanField(_("high-frequency item"), default=False)
    audience = models.CharField(_("serves"), max_length=10, choices=Audience.choices, default=Audience.BOTH)
    accepts_with_gaps = models.BooleanField(_("容缺受理 allowed"), default=False)
    commitment_allowed = models.BooleanField(_("告知承诺 allowed"), default=False)
    auto_approvable = models.BooleanField(_("秒批 (auto-approval) eligible"), default=False)
    keywords = models.CharField(
        _("search keywords"),
        max_length=400,
        blank=True,
        help_text=_("Everyday words people search with, e.g. 开饭店 for a food licence."),
    )
    steps = models.JSONField(
        _("process steps"),
        default=list,
        blank=True,
        help_text=_("办理流程: the steps a case goes through, in order."),
    )
    form_fields = models.JSONField(_("application form fields"), default=list, blank=True)
    licence_type = models.CharField(
        _("licence issued"),
        max_length=60,
        blank=True,
        help_text=_("Code of the e-licence type a decision issues, if any."),
    )

    class Meta:
        ordering = ["item", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="item_version_number_unique"),
            models.UniqueConstraint(
                fields=["item"], condition=models.Q(status="draft"), name="one_draft_per_item"
            ),
        ]
        verbose_name = _("item version")
        verbose_name_plural = _("item versions")

    def __str__(self):
        return f"{self.item.code} v{self.number} ({self.status})"

    @property
    def is_instant(self) -> bool:
        return self.promised_limit_days == 0


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", _("original")
    COPY = "copy", _("copy")
    ELECTRONIC = "electronic", _("electronic")


class Material(models.Model):
    """An application material (申请材料) of one item version."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="materials")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=200)
    required = models.BooleanField(_("required"), default=True)
    core = models.BooleanField(
        _("core"), default=True, help_text=_("Only non-core materials may be missing at 容缺 acceptance.")
    )
    form = models.CharField(
        _("form"), max_length=12, choices=MaterialForm.choices, default=MaterialForm.ELECTRONIC
    )
    copies = models.PositiveSmallIntegerField(_("copies"), default=1)
    licence_type = models.CharField(_("satisfiable by licence type"), max_length=60, blank=True)
    data_query = models.CharField(_("satisfiable by shared-data query"), max_length=80, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        ordering = ["version", "position", "id"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self._check_draft()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_draft()
        return super().delete(*args, **kwargs)

    def _check_draft(self):
        if self.version.status != VersionStatus.DRAFT:
            raise FrozenVersion("materials of a published version cannot change")

    @property
    def satisfiable_without_paper(self) -> bool:
        return bool(self.licence_type or self.data_query)


# --- bundles (一件事一次办) ---------------------------------------------------------------------------


class Bundle(models.Model):
    code = models.CharField(_("bundle code"), max_length=80, unique=True)
    lead_department = models.ForeignKey(
        Department, verbose_name=_("lead department"), on_delete=models.PROTECT, related_name="bundles"
    )
    current = models.OneToOneField(
        "BundleVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("bundle (一件事)")
        verbose_name_plural = _("bundles (一件事)")

    def __str__(self):
        return f"{self.code} {self.current.name if self.current_id else ''}"


class BundleVersion(Version):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="versions")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    keywords = models.CharField(_("search keywords"), max_length=400, blank=True)
    promised_limit_days = models.PositiveIntegerField(
        _("promised limit (working days)"), null=True, blank=True
    )

    class Meta:
        ordering = ["bundle", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "number"], name="bundle_version_number_unique"),
            models.UniqueConstraint(
                fields=["bundle"], condition=models.Q(status="draft"), name="one_draft_per_bundle"
            ),
        ]
        verbose_name = _("bundle version")
        verbose_name_plural = _("bundle versions")

    def __str__(self):
        return f"{self.bundle.code} v{self.number} ({self.status})"


class BundleMember(models.Model):
    """An item in a bundle, pinned to the item version the bundle version was published with."""

    bundle_version = models.ForeignKey(BundleVersion, on_delete=models.CASCADE, related_name="members")
    position = models.PositiveSmallIntegerField(default=0)
    item_version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="bundle_memberships")

    class Meta:
        ordering = ["bundle_version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["bundle_version", "item_version"], name="bundle_member_unique")
        ]

    def __str__(self):
        return f"{self.bundle_version} ← {self.item_version}"

    def save(self, *args, **kwargs):
        if self.bundle_version.status != VersionStatus.DRAFT:
            raise FrozenVersion("members of a published bundle version cannot change")
        super().save(*args, **kwargs)
