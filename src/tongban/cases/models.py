"""Cases (办件): one application from submission to issuance, and the domain events it leaves.

A case pins the catalogue version it was filed under (an item version, or a bundle version and
through it the member item versions), so later edits of the catalogue never change how it is
judged. Its clock counts working days from acceptance and stops while the case waits on the
applicant (补正) or on a special procedure; `paused_days` keeps what has been stopped so far.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Department, Enterprise, Person, User, Window
from tongban.catalog.models import BundleVersion, ItemVersion, ServiceItem
from tongban.core.fields import EncryptedTextField


class Channel(models.TextChoices):
    ONLINE = "online", _("online (一网通办)")
    WINDOW = "window", _("at a window (一窗受理)")


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted, awaiting acceptance")
    IN_PROGRESS = "in_progress", _("accepted, in progress")
    SUPPLEMENT = "supplement", _("waiting for the applicant (补正)")
    DECIDED = "decided", _("decided, ready to issue")
    ISSUED = "issued", _("issued (办结)")
    NOT_ACCEPTED = "not_accepted", _("not accepted")
    WITHDRAWN = "withdrawn", _("withdrawn")
    REVOKED = "revoked", _("approval revoked")


OPEN_CASE_STATUSES = (CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS, CaseStatus.SUPPLEMENT, CaseStatus.DECIDED)


class Decision(models.TextChoices):
    APPROVE = "approve", _("approved")
    REJECT = "reject", _("rejected")


class PauseReason(models.TextChoices):
    NONE = "", _("running")
    SUPPLEMENT = "supplement", _("waiting for the applicant (补正)")
    SPECIAL = "special", _("special procedure (特别程序)")


class Delivery(models.TextChoices):
    WINDOW = "window", _("at the window")
    POST = "post", _("by post")
    ONLINE = "online", _("online")


class Case(models.Model):
    number = models.CharField(_("case number"), max_length=32, unique=True)
    item_version = models.ForeignKey(
        ItemVersion,
        verbose_name=_("item version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    bundle_version = models.ForeignKey(
        BundleVersion,
        verbose_name=_("bundle version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    title = models.CharField(_("title"), max_length=200)
    department = models.ForeignKey(
        Department, verbose_name=_("lead department"), on_delete=models.PROTECT, related_name="cases"
    )
    # Foreign keys without an index of their own where a composite index leads with them or the
    # lookup is a rare administrative one (people and staff are deactivated, not deleted): every
    # index is written with every case.
    applicant = models.ForeignKey(
        Person,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # case_applicant leads with it
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("on behalf of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", db_index=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    window = models.ForeignKey(
        Window,
        verbose_name=_("window"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=14, choices=CaseStatus.choices)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    data = models.JSONField(_("form data"), default=dict, blank=True)
    idempotency_key = models.CharField(max_length=80, blank=True)
    process_instance_id = models.BigIntegerField(null=True, blank=True)
    limit_days = models.PositiveIntegerField(_("promised limit (working days)"), null=True, blank=True)
    due_at = models.DateTimeField(_("promised by"), null=True, blank=True)
    paused_days = models.FloatField(_("working days paused"), default=0.0)
    paused_since = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(_("paused for"), max_length=12, choices=PauseReason.choices, blank=True)
    by_commitment = models.BooleanField(_("告知承诺"), default=False)
    commitment_signed_at = models.DateTimeField(_("commitment signed"), null=True, blank=True)
    # What decided: {"kind": "rule", ...the rule's record} | {"kind": "commitment"} | {"kind": "staff"};
    # for a case the rules sent to a human, the failed checks to show them.
    decision_basis = models.JSONField(_("decision basis"), default=dict, blank=True)
    delivery = models.CharField(_("delivery"), max_length=10, choices=Delivery.choices, blank=True)
    delivery_address = models.TextField(blank=True, help_text=_("Encrypted (SM4)."))
    document_digest = models.CharField(_("decision document SM3"), max_length=64, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    visits = models.PositiveSmallIntegerField(_("in-person visits"), default=0)
    submitted_at = models.DateTimeField(_("submitted"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="case_idempotency",
            ),
            models.CheckConstraint(
                condition=models.Q(item_version__isnull=False) | models.Q(bundle_version__isnull=False),
                name="case_has_item_or_bundle",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "department"], name="case_queue"),
            models.Index(fields=["applicant", "status"], name="case_applicant"),
        ]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES


class CaseNumberDay(models.Model):
    """The serial counter behind the case numbers of one region on one day, and that day's key.

    A case number is region + date + six digits; the digits are the day's next serial put through a
    keyed permutation (core.crypto.permute_digits) under `key`, so every number of the day differs
    from every other while none tells how many cases came before it. The counter is taken in the
    application's own transaction (cases.store.take_case_serial), so it has no gaps.
    """

    region = models.CharField(_("region"), max_length=6)
    day = models.DateField(_("day"))
    last_serial = models.PositiveIntegerField(_("last serial"), default=0)
    key = models.CharField(_("key"), max_length=32, help_text=_("Random, per region and day; hex."))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "day"], name="case_number_day")]
        verbose_name = _("case number counter")
        verbose_name_plural = _("case number counters")

    def __str__(self):
        return f"{self.region} {self.day} {self.last_serial}"


class MaterialStatus(models.TextChoices):
    PENDING = "pending", _("to be provided")
    PROVIDED = "provided", _("provided")
    MISSING = "missing", _("missing (容缺, to follow)")
    REQUESTED = "requested", _("requested (补正)")


class MaterialSource(models.TextChoices):
    UPLOAD = "upload", _("uploaded")
    PAPER = "paper", _("paper, checked at the window")
    LICENCE = "licence", _("e-licence (免提交)")
    SHARED = "shared", _("shared data (免提交)")


class CaseMaterial(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    name = models.CharField(_("material"), max_length=200)
    required = models.BooleanField(default=True)
    core = models.BooleanField(default=True)
    status = models.CharField(_("status"), max_length=10, choices=MaterialStatus.choices)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=MaterialSource.choices, blank=True)
    # The encrypted upload in the file store (core.files), when one was uploaded.
    file_ref = models.CharField(max_length=80, blank=True)
    file_kind = models.CharField(max_length=10, blank=True)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    file_size = models.PositiveIntegerField(null=True, blank=True)
    provided_at = models.DateTimeField(_("provided"), null=True, blank=True)
    alerted_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the clerk was told it is overdue.")
    )

    class Meta:
        ordering = ["case", "id"]
        verbose_name = _("case material")
        verbose_name_plural = _("case materials")

    def __str__(self):
        return f"{self.case.number}: {self.name} ({self.status})"


class ApplicationDraft(models.Model):
    """暂存: an online application saved part-way, to be resumed (on another device too) and submitted.

    One per account and item or bundle, so opening the application again resumes it. What the
    applicant typed and the files they chose are personal data: the form, the chosen enterprise
    and the stored files' handles are kept encrypted together in `content`; the files themselves
    sit encrypted in the file store under the materials' context, so submitting re-uses them.
    """

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    item_code = models.CharField(_("item code"), max_length=64, blank=True)
    bundle_code = models.CharField(_("bundle code"), max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=200)
    # JSON: {"data": {...}, "enterprise_uscc": "", "reuse_consent": bool, "commitment": bool,
    #        "files": {material: {"file_ref", "file_kind", "file_name", "file_size"}}}
    content = EncryptedTextField(_("content"), help_text=_("Encrypted (SM4)."))
    # Submitting twice (two tabs, a retry) makes one case: the draft keeps the key it submits with.
    idempotency_key = models.CharField(max_length=80)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("saved"))

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "item_code", "bundle_code"], name="draft_per_target"),
            models.CheckConstraint(
                condition=~models.Q(item_code="") | ~models.Q(bundle_code=""), name="draft_has_target"
            ),
        ]
        verbose_name = _("application draft")
        verbose_name_plural = _("application drafts")

    def __str__(self):
        return f"{self.title} ({self.updated_at:%Y-%m-%d})"


class Supplement(models.Model):
    """补正: one notice listing everything the applicant must add or fix (行政许可法 art. 32)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supplements")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"))
    # [{"material": name, "reason": text}, ...]; names may be new materials the reviewer asks for.
    items = models.JSONField(_("what is needed"), default=list)
    note = models.TextField(_("note"), blank=True)
    work_item = models.UUIDField(null=True, blank=True, help_text=_("The step it was requested from."))
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    response_note = models.TextField(_("applicant's note"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("supplement request")
        verbose_name_plural = _("supplement requests")

    def __str__(self):
        return f"{self.case.number} 补正 {self.requested_at:%Y-%m-%d}"


class ProcedureKind(models.TextChoices):
    HEARING = "hearing", _("hearing (听证)")
    TESTING = "testing", _("inspection and testing (检验检测)")
    EXPERT_REVIEW = "expert_review", _("expert review (专家评审)")
    SITE_VISIT = "site_visit", _("site verification (现场核查)")


class SpecialProcedure(models.Model):
    """特别程序: time that does not count against the limit (行政许可法 art. 45); the applicant is told."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="procedures")
    kind = models.CharField(_("procedure"), max_length=14, choices=ProcedureKind.choices)
    reason = models.TextField(_("reason"))
    expected_days = models.PositiveIntegerField(_("expected working days"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"))
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    result = models.TextField(_("result"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("special procedure")
        verbose_name_plural = _("special procedures")

    def __str__(self):
        return f"{self.case.number} {self.kind}"


class RatingLevel(models.IntegerChoices):
    """好差评 levels (国办发〔2019〕51号)."""

    VERY_SATISFIED = 5, _("very satisfied (非常满意)")
    SATISFIED = 4, _("satisfied (满意)")
    BASICALLY_SATISFIED = 3, _("basically satisfied (基本满意)")
    DISSATISFIED = 2, _("dissatisfied (不满意)")
    VERY_DISSATISFIED = 1, _("very dissatisfied (非常不满意)")


BAD_RATINGS = (RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED)


class CallbackResult(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied after rectification")
    UNSATISFIED = "unsatisfied", _("still dissatisfied")
    UNREACHABLE = "unreachable", _("could not be reached")


class Rating(models.Model):
    """好差评 of a case by its applicant; a bad one opens a rectification (整改) with a callback (回访)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(_("rating"), choices=RatingLevel.choices)
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    rated_at = models.DateTimeField(_("rated"))
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="ratings")
    rectification = models.UUIDField(null=True, blank=True, help_text=_("The rectification work item."))
    rectification_due_at = models.DateTimeField(_("rectification due"), null=True, blank=True)
    rectified_at = models.DateTimeField(_("rectified"), null=True, blank=True)
    measures = models.TextField(_("rectification measures"), blank=True)
    callback_at = models.DateTimeField(_("callback"), null=True, blank=True)
    callback_result = models.CharField(
        _("callback result"), max_length=12, choices=CallbackResult.choices, blank=True
    )
    callback_note = models.TextField(_("callback note"), blank=True)

    class Meta:
        ordering = ["-rated_at"]
        indexes = [models.Index(fields=["department", "rated_at"], name="rating_department")]
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")

    def __str__(self):
        return f"{self.case.number} {self.score}"

    @property
    def is_bad(self) -> bool:
        return self.score in BAD_RATINGS


class TableStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    SUPERSEDED = "superseded", _("superseded")


class DecisionTable(models.Model):
    """秒批 rules of an auto-approvable item: a declarative table (cases.rules), versioned like the catalogue.

    A case records the table version and the rule that decided it, so later edits never change
    how an earlier case was judged.
    """

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="decision_tables")
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=TableStatus.choices, default=TableStatus.DRAFT
    )
    table = models.JSONField(_("rules"))
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"))
    published_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        ordering = ["item", "-version"]
        constraints = [models.UniqueConstraint(fields=["item", "version"], name="decision_table_version")]
        verbose_name = _("decision table (秒批)")
        verbose_name_plural = _("decision tables (秒批)")

    def __str__(self):
        return f"{self.item.code} v{self.version}"


class PrecheckStatus(models.TextChoices):
    QUEUED = "queued", _("being read")
    DONE = "done", _("read")
    FAILED = "failed", _("could not be read")


class MaterialPrecheck(models.Model):
    """智能预审 of one uploaded material: what OCR read from the scan, compared with the application.

    One per material; a new upload of the material (补正, 容缺 supplied later) replaces it, and
    `file_ref` says which upload the findings are about. Findings hold no raw personal data: ID
    numbers are stored masked, as they are shown.
    """

    material = models.OneToOneField(CaseMaterial, on_delete=models.CASCADE, related_name="precheck")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="prechecks", db_index=False)
    file_ref = models.CharField(max_length=80)
    status = models.CharField(_("status"), max_length=8, choices=PrecheckStatus.choices)
    expected_kind = models.CharField(_("expected document"), max_length=24, blank=True)
    found_kind = models.CharField(_("document found"), max_length=24, blank=True)
    # The worst finding: match | mismatch | unreadable | expired | wrong_kind (cases.precheck).
    outcome = models.CharField(_("result"), max_length=12, blank=True)
    # [{"field", "outcome", "read", "expected", "source"}, ...]
    findings = models.JSONField(_("findings"), default=list, blank=True)
    error = models.CharField(max_length=24, blank=True)
    pages = models.PositiveSmallIntegerField(default=0)
    seconds = models.FloatField(default=0.0)
    requested_at = models.DateTimeField(_("requested"))
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)

    class Meta:
        ordering = ["case", "material"]
        indexes = [models.Index(fields=["case", "status"], name="precheck_case")]
        verbose_name = _("material pre-check (智能预审)")
        verbose_name_plural = _("material pre-checks (智能预审)")

    def __str__(self):
        return f"{self.case_id} {self.material_id} {self.outcome or self.status}"
