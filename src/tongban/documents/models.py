"""Official documents (公文) of the 2012 regulation (党政机关公文处理工作条例), with the structured
elements of GB/T 9704-2012 (DOMAIN.md, 公文).

A document belongs to the agency (发文机关, a bureau or the government) of the section that drafts
it. Every save keeps a version (`DocumentVersion`, the content as it was). The 发文字号 is taken at
sign-off (签发) from the counter of its 机关代字 and year (`NumberCounter`), so numbers run without
gaps; a number given up afterwards (the signed document withdrawn before it was issued) is kept as
a `NumberVoid`, never silently reused. Only non-classified documents are handled: a document
marked 秘密 or above is refused at the door (classified work belongs on a separate network).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Department, User


class DocType(models.TextChoices):
    """The 15 kinds of the 2012 regulation, article 8."""

    RESOLUTION = "resolution", _("决议 resolution")
    DECISION = "decision", _("决定 decision")
    ORDER = "order", _("命令（令） order")
    COMMUNIQUE = "communique", _("公报 communiqué")
    ANNOUNCEMENT = "announcement", _("公告 announcement")
    PUBLIC_NOTICE = "public_notice", _("通告 public notice")
    OPINION = "opinion", _("意见 opinion")
    NOTICE = "notice", _("通知 notice")
    BULLETIN = "bulletin", _("通报 bulletin")
    REPORT = "report", _("报告 report")
    REQUEST = "request", _("请示 request for instructions")
    REPLY = "reply", _("批复 official reply")
    MOTION = "motion", _("议案 motion")
    LETTER = "letter", _("函 letter")
    MINUTES = "minutes", _("纪要 minutes")


# 上行文: the 签发人 is printed in the header (GB/T 9704 7.2.6).
UPWARD_TYPES = frozenset({DocType.REPORT, DocType.REQUEST, DocType.MOTION})
# Published to the public or the record rather than addressed to named agencies: no 主送机关.
NO_RECIPIENT_TYPES = frozenset(
    {DocType.COMMUNIQUE, DocType.ANNOUNCEMENT, DocType.PUBLIC_NOTICE, DocType.ORDER, DocType.MINUTES}
)


class Form(models.TextChoices):
    """The layouts of GB/T 9704: the document form, and the special forms of chapter 10."""

    DOCUMENT = "document", _("document (文件格式)")
    LETTER = "letter", _("letter (信函格式)")
    ORDER = "order", _("order (命令格式)")
    MINUTES = "minutes", _("minutes (纪要格式)")


FORM_OF_TYPE = {DocType.LETTER: Form.LETTER, DocType.ORDER: Form.ORDER, DocType.MINUTES: Form.MINUTES}


class Urgency(models.TextChoices):
    NONE = "", _("none")
    URGENT = "加急", _("加急 urgent")
    EXTRA_URGENT = "特急", _("特急 extra urgent")


class Status(models.TextChoices):
    DRAFT = "draft", _("draft (起草)")
    SIGNED = "signed", _("signed off (已签发)")
    SEALED = "sealed", _("sealed (已用印)")
    ISSUED = "issued", _("issued (已印发)")
    ARCHIVED = "archived", _("archived (已归档)")
    DISPOSED = "disposed", _("disposed of (已销毁)")


class Retention(models.TextChoices):
    """保管期限 of 文书档案 (机关文件材料归档范围和文书档案保管期限规定, 国家档案局令第8号, 2006):
    permanent, or kept for 30 or 10 years counted from 1 January of the year after the document
    was made."""

    PERMANENT = "permanent", _("permanent (永久)")
    YEARS_30 = "30", _("30 years (定期30年)")
    YEARS_10 = "10", _("10 years (定期10年)")


# The period each type is filed under unless the archivist decides otherwise: rules, decisions and
# what is published or proposed to the people's congress are kept for good; ordinary business
# documents for 30 years; letters (函) on routine matters for 10.
RETENTION_OF_TYPE = {
    DocType.RESOLUTION: Retention.PERMANENT,
    DocType.DECISION: Retention.PERMANENT,
    DocType.ORDER: Retention.PERMANENT,
    DocType.COMMUNIQUE: Retention.PERMANENT,
    DocType.ANNOUNCEMENT: Retention.PERMANENT,
    DocType.PUBLIC_NOTICE: Retention.PERMANENT,
    DocType.MOTION: Retention.PERMANENT,
    DocType.MINUTES: Retention.PERMANENT,
    DocType.OPINION: Retention.YEARS_30,
    DocType.NOTICE: Retention.YEARS_30,
    DocType.BULLETIN: Retention.YEARS_30,
    DocType.REPORT: Retention.YEARS_30,
    DocType.REQUEST: Retention.YEARS_30,
    DocType.REPLY: Retention.YEARS_30,
    DocType.LETTER: Retention.YEARS_10,
}


# The content of a document: what a version keeps and what a diff compares.
CONTENT_FIELDS = (
    "doc_type",
    "form",
    "copy_number",
    "urgency",
    "mark",
    "agency_code",
    "title",
    "main_recipients",
    "body",
    "attachments",
    "issuer_name",
    "date",
    "note",
    "cc",
    "printing_agency",
    "printing_date",
)


class Document(models.Model):
    ref = models.CharField(_("reference"), max_length=20, unique=True)
    agency = models.ForeignKey(
        Department, verbose_name=_("issuing agency"), on_delete=models.PROTECT, related_name="documents"
    )
    drafting_department = models.ForeignKey(
        Department,
        verbose_name=_("drafting department"),
        on_delete=models.PROTECT,
        related_name="drafted_documents",
    )
    drafted_by = models.ForeignKey(
        User, verbose_name=_("drafter"), on_delete=models.PROTECT, related_name="drafted_documents"
    )
    doc_type = models.CharField(_("document type"), max_length=16, choices=DocType.choices)
    form = models.CharField(_("layout"), max_length=10, choices=Form.choices, default=Form.DOCUMENT)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    # 版头 (header)
    copy_number = models.CharField(_("copy number (份号)"), max_length=6, blank=True)
    urgency = models.CharField(_("urgency (紧急程度)"), max_length=4, choices=Urgency.choices, blank=True)
    mark = models.CharField(_("agency mark (发文机关标志)"), max_length=60)
    agency_code = models.CharField(_("agency code (机关代字)"), max_length=20)
    number_year = models.PositiveSmallIntegerField(_("number year"), null=True, blank=True)
    number_serial = models.PositiveIntegerField(_("number serial"), null=True, blank=True)
    number = models.CharField(_("document number (发文字号)"), max_length=40, blank=True, db_index=True)
    signer_names = models.CharField(_("signed by (签发人)"), max_length=60, blank=True)
    # 主体 (body)
    title = models.CharField(_("title (标题)"), max_length=200)
    main_recipients = models.CharField(_("main recipients (主送机关)"), max_length=500, blank=True)
    body = models.TextField(_("text (正文)"))
    attachments = models.TextField(_("attachments (附件说明)"), blank=True, help_text=_("one per line"))
    issuer_name = models.CharField(_("issuer (发文机关署名)"), max_length=100)
    date = models.DateField(_("date (成文日期)"), null=True, blank=True)
    note = models.CharField(_("note (附注)"), max_length=200, blank=True)
    # 版记 (imprint)
    cc = models.CharField(_("copied to (抄送机关)"), max_length=500, blank=True)
    printing_agency = models.CharField(_("printed by (印发机关)"), max_length=100, blank=True)
    printing_date = models.DateField(_("printing date (印发日期)"), null=True, blank=True)
    # life
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    signed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="signed_documents"
    )
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    # 归档: the retention period the archive keeps it for, and the first day it may be disposed of
    # (None while not archived, and for permanent records).
    retention = models.CharField(
        _("retention (保管期限)"), max_length=10, choices=Retention.choices, blank=True
    )
    retention_until = models.DateField(_("kept until"), null=True, blank=True, db_index=True)
    # On the outgoing process (document:outgoing): its steps move it, not the direct actions.
    on_flow = models.BooleanField(_("on the process"), default=False)
    # 会签: codes of the departments that countersign (in parallel, one signer each).
    countersign_departments = models.JSONField(_("countersigning departments"), default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency_code", "number_year", "number_serial"],
                condition=Q(number_serial__isnull=False),
                name="documents_number_unique",
            )
        ]
        verbose_name = _("official document")
        verbose_name_plural = _("official documents")

    def __str__(self):
        return f"{self.number or self.ref} {self.title}"

    def content(self) -> dict:
        """The content fields as JSON-ready values (what a version stores)."""
        out = {}
        for name in CONTENT_FIELDS:
            value = getattr(self, name)
            out[name] = value.isoformat() if hasattr(value, "isoformat") else value
        return out

    @property
    def attachment_list(self) -> list[str]:
        return [line.strip() for line in self.attachments.splitlines() if line.strip()]


class DocumentVersion(models.Model):
    """The content as one save left it: every save keeps one, none is ever changed."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("content"))
    saved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField(_("saved"))

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="documents_version_unique")
        ]
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")

    def __str__(self):
        return f"{self.document.ref} v{self.number}"


class NumberCounter(models.Model):
    """The last serial taken for one 机关代字 in one year. Sign-off locks this row until it commits,
    so concurrent sign-offs of one agency take their serials one after another."""

    agency_code = models.CharField(_("agency code (机关代字)"), max_length=20)
    year = models.PositiveSmallIntegerField(_("year"))
    last_serial = models.PositiveIntegerField(_("last serial"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency_code", "year"], name="documents_counter_unique")
        ]
        verbose_name = _("document number counter")
        verbose_name_plural = _("document number counters")

    def __str__(self):
        return f"{self.agency_code}〔{self.year}〕{self.last_serial}"


class NumberVoid(models.Model):
    """A 发文字号 given up after it was assigned: the one recorded reason a serial may be missing."""

    agency_code = models.CharField(_("agency code (机关代字)"), max_length=20)
    year = models.PositiveSmallIntegerField(_("year"))
    serial = models.PositiveIntegerField(_("serial"))
    number = models.CharField(_("document number (发文字号)"), max_length=40)
    document = models.ForeignKey(Document, null=True, on_delete=models.SET_NULL, related_name="voids")
    reason = models.CharField(_("reason"), max_length=500)
    voided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    voided_at = models.DateTimeField(_("voided"))

    class Meta:
        ordering = ["agency_code", "year", "serial"]
        constraints = [
            models.UniqueConstraint(fields=["agency_code", "year", "serial"], name="documents_void_unique")
        ]
        verbose_name = _("voided document number")
        verbose_name_plural = _("voided document numbers")

    def __str__(self):
        return self.number


class Seal(models.Model):
    """An agency's e-seal (电子印章): its picture (a red round seal made from the name) and its own
    SM2 key, the private half SM4-encrypted under the master key (core.sm2). Only its holders use it."""

    code = models.CharField(_("seal code"), max_length=40, unique=True)
    agency = models.ForeignKey(
        Department, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="seals"
    )
    name = models.CharField(_("name on the seal"), max_length=40)
    picture = models.BinaryField(_("picture (PNG)"))
    key_id = models.CharField(max_length=16)
    public_key = models.CharField(max_length=128)
    private_key_ciphertext = models.TextField()
    holders = models.ManyToManyField(User, verbose_name=_("held by"), related_name="document_seals")
    created_at = models.DateTimeField(_("created"))
    valid_until = models.DateTimeField(_("valid until"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("e-seal")
        verbose_name_plural = _("e-seals")

    def __str__(self):
        return f"{self.name} ({self.code})"


class Sealing(models.Model):
    """用印: the sealed PDF as it was signed, kept so the issued file is the one verified."""

    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="sealing")
    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="sealings")
    sealed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    sealed_at = models.DateTimeField(_("sealed"))
    digest = models.CharField(_("SM3 digest"), max_length=64)
    pdf = models.BinaryField(_("sealed PDF"))
    ofd = models.BinaryField(_("sealed OFD"), null=True, blank=True)

    class Meta:
        verbose_name = _("sealing")
        verbose_name_plural = _("sealings")

    def __str__(self):
        return f"{self.document.ref} ← {self.seal.code}"


class ReceiptKind(models.TextChoices):
    MAIN = "main", _("main recipient (主送)")
    CC = "cc", _("copied (抄送)")


class ReceiptStatus(models.TextChoices):
    DELIVERED = "delivered", _("delivered, not yet signed for (待签收)")
    HANDLING = "handling", _("signed for, in handling (办理中)")
    ARCHIVED = "archived", _("archived (已归档)")


class Receipt(models.Model):
    """收文: one issued document as one receiving agency holds it, from 分发 to its own 归档. The
    signing for (签收) is the read receipt the sender sees; the handling runs on document:incoming."""

    ref = models.CharField(_("reference"), max_length=20, unique=True)
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="receipts")
    agency = models.ForeignKey(
        Department, verbose_name=_("receiving agency"), on_delete=models.PROTECT, related_name="receipts"
    )
    kind = models.CharField(_("as"), max_length=4, choices=ReceiptKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ReceiptStatus.choices, default=ReceiptStatus.DELIVERED
    )
    delivered_at = models.DateTimeField(_("delivered"))
    signed_for_at = models.DateTimeField(_("signed for (签收)"), null=True, blank=True)
    signed_for_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    handling_department = models.ForeignKey(
        Department,
        verbose_name=_("handled by (承办)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    class Meta:
        ordering = ["-delivered_at"]
        constraints = [
            models.UniqueConstraint(fields=["document", "agency"], name="documents_receipt_unique")
        ]
        verbose_name = _("received document")
        verbose_name_plural = _("received documents")

    def __str__(self):
        return f"{self.ref} {self.document.number}"


class ReceiptReading(models.Model):
    """传阅: who at the receiving agency opened the document, and when (first time only)."""

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="readings")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(_("read"))

    class Meta:
        ordering = ["read_at"]
        constraints = [models.UniqueConstraint(fields=["receipt", "user"], name="documents_reading_unique")]

    def __str__(self):
        return f"{self.receipt_id} {self.user_id} {self.read_at:%Y-%m-%d %H:%M}"


class TaskStatus(models.TextChoices):
    OPEN = "open", _("in progress (督办中)")
    CLOSED = "closed", _("closed (已办结)")


class SupervisedTask(models.Model):
    """督查督办: a leader's instruction (批示) to carry out, with a lead department, a deadline in
    working days, progress reports, and closing with evidence."""

    ref = models.CharField(_("reference"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    instruction = models.TextField(_("instruction (批示)"))
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="supervised_tasks"
    )
    instructed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    supervising_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("supervised by")
    )
    lead_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="supervised_tasks", verbose_name=_("lead (牵头)")
    )
    co_departments = models.ManyToManyField(
        Department, blank=True, related_name="co_supervised_tasks", verbose_name=_("co-owners (配合)")
    )
    limit_days = models.PositiveSmallIntegerField(_("limit (working days)"))
    created_at = models.DateTimeField(_("created"))
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(_("status"), max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    evidence = models.TextField(_("evidence of completion"), blank=True)

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("supervised task")
        verbose_name_plural = _("supervised tasks")

    def __str__(self):
        return f"{self.ref} {self.title}"


class ProgressReport(models.Model):
    task = models.ForeignKey(SupervisedTask, on_delete=models.CASCADE, related_name="reports")
    text = models.TextField(_("progress"))
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(_("reported"))

    class Meta:
        ordering = ["reported_at"]

    def __str__(self):
        return f"{self.task_id} {self.reported_at:%Y-%m-%d}"


class DisposalDecision(models.TextChoices):
    DESTROY = "destroy", _("destroy (销毁)")
    EXTEND = "extend", _("keep longer (延长保管)")


class Disposal(models.Model):
    """鉴定处置: what was decided for an archived document whose retention ended, by whom and why.
    The row outlives the content it destroyed: it is the destruction register (销毁清册)."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="disposals")
    decision = models.CharField(_("decision"), max_length=8, choices=DisposalDecision.choices)
    reason = models.CharField(_("reason"), max_length=500)
    # What the register keeps of a destroyed document.
    number = models.CharField(_("document number (发文字号)"), max_length=40, blank=True)
    title = models.CharField(_("title"), max_length=200)
    doc_type = models.CharField(_("document type"), max_length=16, choices=DocType.choices)
    date = models.DateField(_("date (成文日期)"), null=True, blank=True)
    retention = models.CharField(_("retention (保管期限)"), max_length=10, choices=Retention.choices)
    new_retention = models.CharField(_("new retention"), max_length=10, choices=Retention.choices, blank=True)
    content_digest = models.CharField(_("SM3 of the destroyed content"), max_length=64, blank=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided"))

    class Meta:
        ordering = ["-decided_at"]
        verbose_name = _("disposal")
        verbose_name_plural = _("disposals")

    def __str__(self):
        return f"{self.number or self.document_id} {self.decision}"


class SearchEntry(models.Model):
    """A document's words for full-text search, cut by jieba and space-separated (documents.search
    keeps it in step; the engines' indexes over it are made by migration 0005). On SQLite its
    triggers feed the FTS5 table: a later migration that rebuilds this table must make them again."""

    document = models.OneToOneField(
        Document, primary_key=True, on_delete=models.CASCADE, related_name="search_entry"
    )
    title = models.TextField()
    meta = models.TextField()
    body = models.TextField()
    acl = models.TextField()

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")

    def __str__(self):
        return str(self.document_id)
