"""Policies, matching runs and what they found, and benefits granted without an application.

A run keeps, per policy, the counts and the subjects who qualify; per subject, one row with every
policy's outcome for it, each condition's result and the values they were decided on — what the
enterprise page shows and what a contest is about. Subjects who do not qualify leave only counts.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Department


class SubjectKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("enterprise")
    PERSON = "person", _("person")


class PolicyKind(models.TextChoices):
    SUBSIDY = "subsidy", _("subsidy (补贴)")
    AWARD = "award", _("award (奖励)")
    TAX_RELIEF = "tax_relief", _("tax relief (税费减免)")
    INTEREST = "interest", _("interest subsidy (贴息)")


class Policy(models.Model):
    """A benefit, subsidy or relief. Eligibility: every condition holds (each a FEEL expression over
    the data items of proactive.profile). `automatic` is 免申即享: granted to whoever the data shows
    qualifies, with no application."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=PolicyKind.choices)
    subject_kind = models.CharField(
        _("for"), max_length=10, choices=SubjectKind.choices, default=SubjectKind.ENTERPRISE
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="policies"
    )
    issuer = models.CharField(_("issued by"), max_length=100, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    benefit = models.CharField(_("what it gives"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    # [{"label": "…", "expression": "FEEL"}], all of which must hold
    conditions = models.JSONField(_("conditions"), default=list)
    automatic = models.BooleanField(_("granted without application (免申即享)"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")

    def __str__(self):
        return self.name


class MatchRun(models.Model):
    """One matching of a department's active policies against everyone the shared data knows."""

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=60)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    subjects = models.PositiveIntegerField(_("subjects"), default=0)
    policies = models.PositiveIntegerField(_("policies"), default=0)
    qualified = models.PositiveIntegerField(_("qualified (pairs)"), default=0)
    granted = models.PositiveIntegerField(_("granted without application"), default=0)
    notified = models.PositiveIntegerField(_("notices sent"), default=0)
    # {"resource code": "call reference"}: the exchange calls the data came through
    calls = models.JSONField(default=dict)
    # seconds per phase: fetch, evaluate, record
    timings = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("matching run")
        verbose_name_plural = _("matching runs")

    def __str__(self):
        return self.reference


class PolicyOutcome(models.Model):
    """A run's result for one policy: how many qualify, and per condition how many it held for."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="outcomes")
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="outcomes")
    qualified = models.PositiveIntegerField(default=0)
    undetermined = models.PositiveIntegerField(default=0)
    not_qualified = models.PositiveIntegerField(default=0)
    # [[true, false, unknown], …] per condition, in the policy's order
    condition_counts = models.JSONField(default=list)
    # the conditions as they were evaluated (a later edit does not change what this run found)
    conditions = models.JSONField(default=list)
    subjects = models.JSONField(default=list)  # keys of those who qualify

    class Meta:
        ordering = ["run", "policy"]
        constraints = [models.UniqueConstraint(fields=["run", "policy"], name="proactive_outcome_unique")]

    def __str__(self):
        return f"{self.run_id}:{self.policy_id}"


class SubjectMatch(models.Model):
    """What one run found for one subject who qualifies (or may) for at least one policy."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="matches")
    subject_key = models.CharField(max_length=18)
    # {"policy code": {"outcome": "qualified"|"undetermined", "conditions": [true|false|null, …]}}
    results = models.JSONField(default=dict)
    values = models.JSONField(default=dict)  # the data items those policies read, as received

    class Meta:
        indexes = [models.Index(fields=["subject_key", "run"], name="proactive_match_subject")]
        constraints = [models.UniqueConstraint(fields=["run", "subject_key"], name="proactive_match_unique")]

    def __str__(self):
        return f"{self.run_id}:{self.subject_key}"


class BenefitStatus(models.TextChoices):
    GRANTED = "granted", _("granted")
    CONTESTED = "contested", _("contested, under review")
    CONFIRMED = "confirmed", _("confirmed after review")
    WITHDRAWN = "withdrawn", _("withdrawn after review")
    ACCEPTED = "accepted", _("accepted by the beneficiary")
    DECLINED = "declined", _("declined by the beneficiary")


class Benefit(models.Model):
    """A 免申即享 grant: what was given to whom, on which data and conditions, and any contest."""

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="benefits")
    subject_key = models.CharField(max_length=18)
    run = models.ForeignKey(MatchRun, on_delete=models.PROTECT, related_name="benefits")
    granted_at = models.DateTimeField(_("granted"))
    # [{"label", "expression", "result"}] and the values they were decided on
    reasons = models.JSONField(default=list)
    values = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=BenefitStatus.choices, default=BenefitStatus.GRANTED
    )
    contest_reason = models.TextField(_("why you contest it"), blank=True)
    contested_by = models.CharField(max_length=60, blank=True)
    contested_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    decided_by = models.CharField(max_length=60, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # the beneficiary's answer to the grant: accepted, or declined (and why)
    answered_by = models.CharField(max_length=60, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(_("why you decline it"), max_length=300, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["subject_key"], name="proactive_benefit_subject")]
        constraints = [
            models.UniqueConstraint(fields=["policy", "subject_key"], name="proactive_benefit_unique")
        ]
        verbose_name = _("benefit")
        verbose_name_plural = _("benefits")

    def __str__(self):
        return self.reference
