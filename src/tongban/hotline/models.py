"""12345 hotline (接诉即办): work orders from intake to callback.

A work order (工单) is owned by the centre until a department accepts it (首接负责制). It is
dispatched to one department, or to a lead (主办) with co-handlers (协办); each dispatch is an
`Assignment`, so reassignment history is kept. The requester's name and phone number are personal
data: SM4-encrypted at rest, with a blind index on the phone so an operator sees the caller's
earlier orders without anyone searching by plaintext.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Department, Region, User
from tongban.core import crypto
from tongban.core.fields import EncryptedTextField
from tongban.core.masking import mask_name, mask_phone

PHONE_CONTEXT = "hotline.WorkOrder.contact_phone"


class Channel(models.TextChoices):
    PHONE = "phone", _("phone (坐席)")
    PORTAL = "portal", _("citizen portal")
    APP = "app", _("mobile app")
    API = "api", _("API")
    OPEN311 = "open311", _("Open311")
    CITY_EVENT = "city_event", _("city event (城市事件)")


class OrderType(models.TextChoices):
    CONSULTATION = "consultation", _("consultation")
    HELP = "help", _("request for help")
    COMPLAINT = "complaint", _("complaint")
    REPORT = "report", _("report of wrongdoing")
    SUGGESTION = "suggestion", _("suggestion")
    PRAISE = "praise", _("praise")


class Urgency(models.TextChoices):
    CRITICAL = "critical", _("critical")
    URGENT = "urgent", _("urgent")
    NORMAL = "normal", _("normal")


class OrderStatus(models.TextChoices):
    REGISTERED = "registered", _("registered, awaiting dispatch")
    ANSWERED = "answered", _("answered on the spot (直接办结)")
    DISPATCHED = "dispatched", _("dispatched, awaiting acceptance")
    RETURNED = "returned", _("returned, awaiting arbitration (退单)")
    IN_PROGRESS = "in_progress", _("being handled")
    REPLIED = "replied", _("replied, awaiting review")
    REVIEWED = "reviewed", _("reviewed, awaiting callback")
    CLOSED = "closed", _("closed (办结)")
    MERGED = "merged", _("merged into another order (合并)")


OPEN_STATUSES = (
    OrderStatus.REGISTERED,
    OrderStatus.DISPATCHED,
    OrderStatus.RETURNED,
    OrderStatus.IN_PROGRESS,
    OrderStatus.REPLIED,
    OrderStatus.REVIEWED,
)


class Outcome(models.TextChoices):
    SOLVED = "solved", _("solved")
    PARTLY_SOLVED = "partly_solved", _("partly solved")
    UNSOLVED = "unsolved", _("not solved")
    UNFOUNDED = "unfounded", _("unfounded")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
    DISSATISFIED = "dissatisfied", _("dissatisfied")


class CallbackSolved(models.TextChoices):
    SOLVED = "solved", _("solved")
    PARTLY = "partly", _("partly solved")
    UNSOLVED = "unsolved", _("not solved")


class Category(models.Model):
    """A node of the three-level taxonomy (一级/二级/三级分类). `department` is the centre's
    category → department map: an order goes to the nearest ancestor's department."""

    name = models.CharField(_("name"), max_length=60)
    level = models.PositiveSmallIntegerField(_("level"))
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=200, unique=True, help_text=_("一级/二级/三级"))
    department = models.ForeignKey(
        Department,
        verbose_name=_("owning department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hotline_categories",
    )

    class Meta:
        ordering = ["path"]
        verbose_name = _("hotline category")
        verbose_name_plural = _("hotline categories")

    def __str__(self):
        return self.path

    @property
    def top(self) -> str:
        return self.path.split("/")[0]


class TimeLimit(models.Model):
    """The centre's limits for an urgency (and optionally one order type); code defaults apply
    where no row exists (DOMAIN.md: first contact 2 h for 特急, 24 h otherwise; resolution 1/3/7
    working days, 15 for complex orders after an approved extension)."""

    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    order_type = models.CharField(_("type"), max_length=15, choices=OrderType.choices, blank=True)
    first_contact_hours = models.PositiveIntegerField(_("first contact within (hours)"))
    resolution_working_days = models.PositiveIntegerField(_("resolution within (working days)"))
    extended_working_days = models.PositiveIntegerField(
        _("after an approved extension (working days)"), default=15
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["urgency", "order_type"], name="hotline_time_limit_unique")
        ]
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")

    def __str__(self):
        return f"{self.get_urgency_display()} {self.order_type or '*'}"


class WorkOrder(models.Model):
    number = models.CharField(_("work order number"), max_length=24, unique=True)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    order_type = models.CharField(_("type"), max_length=15, choices=OrderType.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(
        _("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.REGISTERED, db_index=True
    )
    # requester
    requester_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="hotline_orders"
    )
    requester_name = EncryptedTextField(_("requester"), blank=True)
    anonymous = models.BooleanField(_("name withheld"), default=False)
    contact_phone = EncryptedTextField(_("contact number"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # what and where
    text = models.TextField(_("text"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("owning department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hotline_orders",
    )
    # routing: what the router suggested and whether the operator took it
    suggested_category = models.CharField(_("suggested category"), max_length=60, blank=True)
    suggestion_confidence = models.FloatField(_("suggestion confidence"), null=True, blank=True)
    suggestion_accepted = models.BooleanField(_("suggestion accepted"), null=True, blank=True)
    # clock
    received_at = models.DateTimeField(_("received"), db_index=True)
    first_contact_due = models.DateTimeField(_("first contact due"))
    first_contacted_at = models.DateTimeField(_("first contacted"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"))
    extended = models.BooleanField(_("extension approved"), default=False)
    # result
    reply_text = models.TextField(_("reply (答复意见)"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=15, choices=Outcome.choices, blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveIntegerField(_("reopened"), default=0)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # near-duplicates and hotspots: the order this one was merged into, and its cluster (the number
    # of the cluster's first order; `similar.py`)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_orders",
    )
    cluster = models.CharField(_("cluster"), max_length=24, blank=True)
    # 直接办结: the knowledge base entry the answer came from ("reply:<ref>" or "policy:<ref>")
    knowledge_ref = models.CharField(_("knowledge base entry"), max_length=60, blank=True)
    signature = models.BinaryField(blank=True, editable=False, default=b"")  # MinHash (similar.py)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["department", "status"], name="hotline_order_dept_status"),
            models.Index(fields=["cluster", "received_at"], name="hotline_order_cluster"),
        ]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        self.phone_index = self.index_phone(self.contact_phone or "")
        super().save(*args, **kwargs)

    @staticmethod
    def index_phone(normalised: str) -> str:
        return crypto.blind_index(normalised, PHONE_CONTEXT) if normalised else ""

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.contact_phone)

    @property
    def name_masked(self) -> str:
        return mask_name(self.requester_name)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("lead (主办)")
    CO = "co", _("co-handler (协办)")


class AssignmentStatus(models.TextChoices):
    DISPATCHED = "dispatched", _("dispatched")
    ACCEPTED = "accepted", _("accepted")
    RETURNED = "returned", _("returned (退单)")
    REPLIED = "replied", _("replied")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Assignment(models.Model):
    """One dispatch of an order to a department, kept after it ends: the reassignment history."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="hotline_assignments"
    )
    role = models.CharField(_("role"), max_length=5, choices=AssignmentRole.choices)
    status = models.CharField(_("status"), max_length=12, choices=AssignmentStatus.choices)
    round = models.PositiveIntegerField(
        _("round"), default=0, help_text=_("0 first handling, n after n reopens")
    )
    dispatched_at = models.DateTimeField(_("dispatched"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    arbitration = models.CharField(_("arbitration"), max_length=10, blank=True)
    reply_text = models.TextField(_("reply"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=15, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["order", "dispatched_at", "pk"]
        indexes = [models.Index(fields=["department", "status"], name="hotline_assignment_dept_status")]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self):
        return f"{self.order.number} → {self.department.code} ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.status in (AssignmentStatus.DISPATCHED, AssignmentStatus.ACCEPTED)


class Callback(models.Model):
    """A callback (回访) attempt; the one that reaches the requester closes the order."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="callbacks")
    at = models.DateTimeField(_("at"))
    contacted = models.BooleanField(_("reached the requester"))
    solved = models.CharField(_("solved"), max_length=10, choices=CallbackSolved.choices, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=20, choices=Satisfaction.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("the lead then"),
    )
    by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["order", "at"]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")

    def __str__(self):
        return f"{self.order_id} {self.at:%Y-%m-%d %H:%M}"


class TrainingExample(models.Model):
    """A message with the first-level category an operator confirmed or chose instead of the
    router's suggestion: the router learns from these next time it is trained."""

    text = models.TextField(_("text"))
    label = models.CharField(_("category"), max_length=60)
    suggested = models.CharField(_("suggested"), max_length=60, blank=True)
    overridden = models.BooleanField(_("overridden"), default=False)
    order = models.ForeignKey(WorkOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("routing example")
        verbose_name_plural = _("routing examples")

    def __str__(self):
        return self.label


class OrderNumberDay(models.Model):
    """The serial behind one day's work order numbers, and that day's permutation key."""

    day = models.DateField(unique=True)
    last_serial = models.PositiveIntegerField(default=0)
    key = models.CharField(max_length=32)

    def __str__(self):
        return f"{self.day} {self.last_serial}"


class RequesterRole(models.TextChoices):
    MERGED = "merged", _("from a merged order")
    FOLLOWER = "follower", _("follows the order")


class Requester(models.Model):
    """A further requester of an order (the first is on the order itself): someone whose own order
    the centre merged into this one, or a citizen who chose to follow it instead of filing."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="requesters")
    role = models.CharField(_("role"), max_length=10, choices=RequesterRole.choices)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = EncryptedTextField(_("requester"), blank=True)
    anonymous = models.BooleanField(_("name withheld"), default=False)
    contact_phone = EncryptedTextField(_("contact number"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    source = models.ForeignKey(
        WorkOrder,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("merged order"),
    )
    joined_at = models.DateTimeField(_("joined"))

    class Meta:
        ordering = ["order", "joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "user"],
                condition=models.Q(user__isnull=False),
                name="hotline_requester_once",
            )
        ]
        verbose_name = _("requester")
        verbose_name_plural = _("requesters")

    def __str__(self):
        return f"{self.order_id} {self.role}"

    def save(self, *args, **kwargs):
        self.phone_index = WorkOrder.index_phone(self.contact_phone or "")
        super().save(*args, **kwargs)

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.contact_phone)


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("awaiting the centre")
    MERGED = "merged", _("merged")
    REJECTED = "rejected", _("not a duplicate")


class DuplicateProposal(models.Model):
    """The duplicate check's proposal: `order` looks like `target`, an earlier open order at the same
    place; the centre merges it or says it is not a duplicate."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="duplicate_proposals")
    target = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("similarity"))
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    created_at = models.DateTimeField(_("proposed"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-score"]
        constraints = [models.UniqueConstraint(fields=["order", "target"], name="hotline_proposal_once")]
        indexes = [models.Index(fields=["status", "created_at"], name="hotline_proposal_status")]
        verbose_name = _("duplicate proposal")
        verbose_name_plural = _("duplicate proposals")

    def __str__(self):
        return f"{self.order_id} ~ {self.target_id} {self.score:.2f}"


class OrderBand(models.Model):
    """One MinHash LSH band key of an order's text (`similar.py`): the index the duplicate check,
    the hotspot clustering and the citizen's similar-orders list look candidates up in."""

    key = models.BigIntegerField()
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "received_at"], name="hotline_band_key")]

    def __str__(self):
        return f"{self.order_id} {self.key}"


class HotspotWarning(models.Model):
    """An early warning: a cluster of similar orders grew fast (`services.HOTSPOT_*`)."""

    cluster = models.CharField(_("cluster"), max_length=24, db_index=True)
    at = models.DateTimeField(_("at"))
    recent = models.PositiveIntegerField(_("orders in the last 24 hours"))
    baseline = models.FloatField(_("daily average of the week before"))
    label = models.CharField(_("about"), max_length=120)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("hotspot warning")
        verbose_name_plural = _("hotspot warnings")

    def __str__(self):
        return f"{self.cluster} {self.at:%Y-%m-%d %H:%M}"


class PastReply(models.Model):
    """An earlier message with its official reply (答复意见), imported from the centre's archive
    (`tongban hotline import-replies`, e.g. replies.csv): the handler is shown the most similar."""

    ref = models.CharField(_("reference"), max_length=40, unique=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    text = models.TextField(_("message"))
    reply = models.TextField(_("official reply"))
    asked_at = models.DateTimeField(_("asked"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)

    class Meta:
        ordering = ["ref"]
        verbose_name = _("past reply")
        verbose_name_plural = _("past replies")

    def __str__(self):
        return self.subject or self.ref


class PolicyText(models.Model):
    """A policy text of the knowledge base (a regulation's article, a department's notice): the
    operator answers a consultation on the spot from it, or from a past official reply
    (`tongban hotline import-policies`)."""

    ref = models.CharField(
        _("reference"), max_length=40, unique=True, help_text=_("e.g. the document number")
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    issuer = models.CharField(_("issued by"), max_length=100, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)

    class Meta:
        ordering = ["ref"]
        verbose_name = _("policy text")
        verbose_name_plural = _("policy texts")

    def __str__(self):
        return self.title


class Open311Client(models.Model):
    """A system allowed to post service requests through Open311 GeoReport v2 (its api_key; only
    the key's blind index is stored)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    key_index = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self):
        return self.name


class Open311Request(models.Model):
    """A work order posted through Open311: which client posted it, and the token it was given."""

    order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="open311")
    client = models.ForeignKey(Open311Client, on_delete=models.PROTECT, related_name="requests")
    token = models.CharField(max_length=40, unique=True)
    service_code = models.CharField(max_length=20)
    account_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")

    def __str__(self):
        return self.token


class EventSystem(models.Model):
    """A system that posts city events (城市事件: a water-level sensor network, a video analytics
    platform): its bearer token (only the token's blind index is stored) and the CloudEvents
    `source` prefix its events must carry, so one system can neither post nor read another's."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    key_index = models.CharField(max_length=64, unique=True, editable=False)
    source_prefix = models.CharField(
        _("event source prefix"), max_length=200, help_text=_("e.g. urn:gaxq:water-sensors/")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("event system")
        verbose_name_plural = _("event systems")

    def __str__(self):
        return self.name


class EventRule(models.Model):
    """A rule turning a city event into a work order: events of `event_type` for which `condition`
    (FEEL, the platform's rule language, over the event's `data`, `subject`, `source`, `type`)
    holds become an order of `category`, sent to `department` (else the category's) with
    `urgency`. The first active rule in `priority` order that holds decides. Repeats at the same
    place (same subject, or map points within `merge_metres`) while the order is open and younger
    than `merge_hours` join that order instead of opening another."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    event_type = models.CharField(_("event type"), max_length=200, db_index=True)
    condition = models.TextField(_("condition (FEEL)"), blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="event_rules"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.URGENT)
    order_type = models.CharField(_("type"), max_length=15, choices=OrderType.choices, default=OrderType.HELP)
    priority = models.PositiveIntegerField(_("priority"), default=100, help_text=_("lower first"))
    merge_hours = models.PositiveIntegerField(_("merge repeats within (hours)"), default=24)
    merge_metres = models.PositiveIntegerField(_("same place within (metres)"), default=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["priority", "name"]
        verbose_name = _("event rule")
        verbose_name_plural = _("event rules")

    def __str__(self):
        return self.name


class EventOutcome(models.TextChoices):
    CREATED = "created", _("work order created")
    MERGED = "merged", _("joined an open work order")
    IGNORED = "ignored", _("no rule applies")


class CityEvent(models.Model):
    """One CloudEvent a system posted, kept as received; (source, event_id) is unique, so a replay
    is recognised and answered with what the first delivery did."""

    system = models.ForeignKey(EventSystem, on_delete=models.PROTECT, related_name="events")
    source = models.CharField(_("source"), max_length=500)
    event_id = models.CharField(_("event id"), max_length=200)
    event_type = models.CharField(_("event type"), max_length=200)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("occurred"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), db_index=True)
    data = models.JSONField(_("data"), null=True, blank=True)
    extensions = models.JSONField(_("extension attributes"), default=dict, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=EventOutcome.choices)
    rule = models.ForeignKey(EventRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule_name = models.CharField(_("rule"), max_length=100, blank=True)
    order = models.ForeignKey(
        WorkOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="city_events"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["source", "event_id"], name="hotline_city_event_once")]
        indexes = [models.Index(fields=["rule", "subject", "received_at"], name="hotline_city_event_rule")]
        verbose_name = _("city event")
        verbose_name_plural = _("city events")

    def __str__(self):
        return f"{self.source} {self.event_id}"
