"""The applicant's progress strip: the guide's own steps (办理流程), each marked done with its date.

Citizens read the steps the guide promised them, not the engine's diagram. A guide step is free
text written by the department ("网上申报", "户籍民警审核", "户口簿增页邮寄或自取"), so each is
placed in one of five stages of every case's life by the words it uses; a stage is done when the
case's own record says so (submitted, accepted, decided, issued). Steps the words do not place
follow the step before them, so the strip never runs backwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ..models import CaseStatus, Decision

APPLY, ACCEPT, REVIEW, DECIDE, DELIVER = range(5)

# Tried from the last stage back, so "核准登记" is a decision, not an application, and "发票领用申请"
# after "票种核定" stays in order by the no-running-backwards rule.
STAGE_WORDS = (
    (
        DELIVER,
        (
            "邮寄",
            "领取",
            "自取",
            "送达",
            "发放",
            "推送",
            "生效",
            "激活",
            "出件",
            "办结",
            "制证",
            "制卡",
            "寄递",
        ),
    ),
    (
        DECIDE,
        ("决定", "签发", "核准", "批准", "审批", "许可", "登记", "核发", "编号", "开通", "开设", "备案"),
    ),
    (REVIEW, ("审核", "审查", "核对", "核查", "勘验", "现场", "评审", "踏勘", "论证", "检验", "刻制")),
    (ACCEPT, ("受理", "预审", "核验", "接件", "收件")),
    (APPLY, ("申请", "申报", "填报", "登录", "提交", "签名", "选择", "确认", "预约")),
)

DEFAULT_STEPS = (
    (APPLY, _("Application submitted")),
    (ACCEPT, _("Accepted")),
    (REVIEW, _("Review (审查)")),
    (DECIDE, _("Decision (决定)")),
    (DELIVER, _("Result delivered (办结)")),
)


@dataclass(frozen=True)
class ProgressStep:
    """One step of the strip. `state` is a CSS hook: done, current, paused, bad, todo, skipped."""

    name: str
    state: str
    at: dt.datetime | None = None
    note: str = ""


def stage_of(step: str, previous: int) -> int:
    """The stage a guide step belongs to; never before the step that precedes it."""
    for stage, words in STAGE_WORDS:
        if any(word in step for word in words):
            return max(stage, previous)
    return previous


def staged(steps) -> list[tuple[int, str]]:
    """The guide's steps with their stages (the default five when the guide lists none)."""
    names = [str(s).strip() for s in steps or () if str(s).strip()]
    if not names:
        return [(stage, str(name)) for stage, name in DEFAULT_STEPS]
    out, previous = [], APPLY
    for name in names:
        previous = stage_of(name, previous)
        out.append((previous, name))
    return out


def _reached(case) -> dict[int, dt.datetime | None]:
    """When the case finished each stage it has finished (a missing key: not yet)."""
    reached: dict[int, dt.datetime | None] = {APPLY: case.submitted_at}
    if case.accepted_at:
        reached[ACCEPT] = case.accepted_at
    if case.decided_at:  # a refusal is decided after a review too
        reached[REVIEW] = case.decided_at
        if ACCEPT not in reached:  # 秒批 and 告知承诺 decide as they accept
            reached[ACCEPT] = case.decided_at
    if case.decided_at and case.decision == Decision.APPROVE:
        reached[DECIDE] = case.decided_at
        if case.status == CaseStatus.ISSUED or (case.status == CaseStatus.REVOKED and case.closed_at):
            reached[DELIVER] = case.closed_at or case.decided_at
    return reached


def strip(case, steps) -> list[ProgressStep]:
    """The progress strip of a case over the guide's steps."""
    reached = _reached(case)
    paused = bool(case.pause_reason)
    stopped_note, stopped_stage = "", None
    if case.status == CaseStatus.NOT_ACCEPTED:
        stopped_stage, stopped_note = ACCEPT, str(CaseStatus.NOT_ACCEPTED.label)
    elif case.decision == Decision.REJECT:
        stopped_stage, stopped_note = DECIDE, str(Decision.REJECT.label)
    elif case.status == CaseStatus.WITHDRAWN:
        stopped_stage, stopped_note = None, str(CaseStatus.WITHDRAWN.label)
    out: list[ProgressStep] = []
    current_given = False
    for stage, name in staged(steps):
        if stage in reached:
            out.append(ProgressStep(name, "done", reached[stage]))
        elif stopped_stage is not None and stage == stopped_stage and not current_given:
            out.append(ProgressStep(name, "bad", case.decided_at or case.closed_at, stopped_note))
            current_given = True
        elif (
            case.status in (CaseStatus.WITHDRAWN, CaseStatus.NOT_ACCEPTED) or case.decision == Decision.REJECT
        ):
            note = stopped_note if not current_given and case.status == CaseStatus.WITHDRAWN else ""
            out.append(ProgressStep(name, "skipped", None, note))
            current_given = True
        elif not current_given:
            out.append(
                ProgressStep(
                    name, "paused" if paused else "current", None, str(_("clock stopped")) if paused else ""
                )
            )
            current_given = True
        else:
            out.append(ProgressStep(name, "todo"))
    return out


def bundle_members(bundle_version_id) -> dict[str, str]:
    """A bundle's members as process key → item name, in the bundle's order: its steps run in the
    members' processes, and the strip and the case page say which item each is for."""
    from tongban.catalog.models import BundleMember
    from tongban.workflow import builder

    return {
        builder.item_key(m.item_version.item.code): m.item_version.name
        for m in BundleMember.objects.filter(bundle_version_id=bundle_version_id).select_related(
            "item_version__item"
        )
    }


def bundle_strip(case, members: list[tuple[str, str]], work, events) -> list[ProgressStep]:
    """A bundle's strip: one application, one acceptance, each member item, one delivery.

    `members` are (process key, item name) in the bundle's order; a member is done when the steps
    of its process all are, at the time its last step completed (from the event log).
    """
    reached = _reached(case)
    finished_at = {}
    for event in events:
        if event.work_item is not None and event.lifecycle == "complete":
            finished_at[event.work_item] = event.occurred_at
    head = [(APPLY, str(_("Application submitted"))), (ACCEPT, str(_("Accepted at one window (一窗受理)")))]
    out = [ProgressStep(name, "done", reached[stage]) if stage in reached else None for stage, name in head]
    stopped = case.status in (CaseStatus.WITHDRAWN, CaseStatus.NOT_ACCEPTED)
    current_given = False
    for index, (stage, name) in enumerate(head):
        if out[index] is None:
            state = "skipped" if stopped else ("todo" if current_given else "current")
            if case.status == CaseStatus.NOT_ACCEPTED and stage == ACCEPT:
                state = "bad"
            out[index] = ProgressStep(
                name, state, None, str(case.get_status_display()) if state == "bad" else ""
            )
            current_given = True
    for key, item_name in members:
        mine = [w for w in work if w.process_key == key]
        if mine and not any(w.is_open for w in mine):
            times = [finished_at.get(w.public_id) for w in mine]
            out.append(ProgressStep(item_name, "done", max((t for t in times if t), default=None)))
        elif DECIDE in reached:
            out.append(ProgressStep(item_name, "done", reached[DECIDE]))
        elif stopped or case.decision == Decision.REJECT:
            out.append(ProgressStep(item_name, "skipped"))
        elif mine:
            out.append(ProgressStep(item_name, "paused" if case.pause_reason else "current"))
            current_given = True
        else:
            out.append(ProgressStep(item_name, "todo"))
    last = str(_("Results delivered (办结)"))
    if DELIVER in reached:
        out.append(ProgressStep(last, "done", reached[DELIVER]))
    elif case.decision == Decision.REJECT:
        out.append(ProgressStep(last, "bad", case.decided_at, str(Decision.REJECT.label)))
    else:
        out.append(ProgressStep(last, "skipped" if stopped else "todo"))
    return out
