"""Near-duplicates, followers, hotspots and reply suggestions: the use cases built on `similar.py`.

- At intake every order is indexed (its LSH band keys) and checked: earlier open orders with similar
  text at the same place within the window become duplicate proposals, and the order joins the
  cluster of the most similar recent order (or starts one). A cluster that grows fast raises a
  hotspot warning (热点预警).
- The centre merges a proposed duplicate into the earlier order, whose requesters it joins, or
  says it is not one.
- A citizen filing on the portal sees similar open orders and may follow one instead of filing.
- A handler sees the most similar past messages with their official replies.

The thresholds are settings (`TONGBAN_HOTLINE_SIMILAR`, see DEFAULTS); similarity is the Jaccard
index of character bigrams (`similar.py`), so 1.0 is the same text and unrelated messages score
under 0.1.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Q
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts.models import Region
from tongban.core.authz import require
from tongban.core.errors import Conflict, FieldErrors, InvalidInput, NotFound, NotPermitted
from tongban.core.identifiers import normalize_region_code
from tongban.core.uow import current, use_case

from . import activities as act
from . import band_index, similar
from .models import (
    OPEN_STATUSES,
    AssignmentStatus,
    DuplicateProposal,
    HotspotWarning,
    OrderStatus,
    PastReply,
    PolicyText,
    ProposalStatus,
    Requester,
    RequesterRole,
    WorkOrder,
)
from .services import _authenticated, _centre_order, _event, access_order, is_centre, may_read_all, now

DEFAULTS = {
    "duplicate_threshold": 0.45,  # proposed as a duplicate from here
    "follow_threshold": 0.3,  # shown to a citizen as a similar open order from here
    "cluster_threshold": 0.3,  # joins the cluster of an order this similar
    "window_days": 7,  # duplicates among the orders received in the last week
    "cluster_days": 30,  # clusters link orders up to a month apart
    "place_metres": 500,  # two map points this close are the same place
    "warn_recent": 10,  # a hotspot warning needs this many orders of a cluster in 24 hours
    "warn_growth": 3.0,  # ... and this many times the cluster's daily average of the week before
    "max_candidates": 150,  # candidates read per lookup (the most shared band keys first)
    "max_postings": 2000,  # a band key more orders than this share in the window is ignored
    "estimate_margin": 0.1,  # compared exactly when the signatures estimate at least threshold - this
}


def config() -> dict:
    return DEFAULTS | getattr(settings, "TONGBAN_HOTLINE_SIMILAR", {})


# --- place -------------------------------------------------------------------------------------------


def same_place(a: WorkOrder, b: WorkOrder, metres: float) -> bool:
    """Nothing about the two places contradicts each other: map points within `metres`, else the
    same region, else similar addresses; an order without any place (a phone call) takes its text
    alone."""
    if a.latitude is not None and b.latitude is not None:
        return similar.distance_m(a.latitude, a.longitude, b.latitude, b.longitude) <= metres
    if a.region_id and b.region_id and a.region_id != b.region_id:
        return False
    if a.address and b.address and not (a.region_id and a.region_id == b.region_id):
        return similar.similarity(a.address, b.address) >= 0.3
    return True


# --- the index ---------------------------------------------------------------------------------------


@dataclass
class Candidate:
    """What the duplicate check reads of an indexed order (a model instance costs more to build
    than the whole comparison)."""

    pk: int
    received_at: dt.datetime
    status: str
    region_id: int | None
    address: str
    latitude: object
    longitude: object
    cluster: str
    number: str
    text: str = ""


@dataclass(frozen=True)
class Match:
    order: Candidate | WorkOrder
    score: float


_PLACE_FIELDS = (
    "pk",
    "received_at",
    "status",
    "region_id",
    "address",
    "latitude",
    "longitude",
    "cluster",
    "number",
)


def _in(values) -> str:
    return ", ".join(["%s"] * len(values))


def horizon(at: dt.datetime, cfg: dict | None = None) -> dt.datetime:
    """The oldest receiving time any lookup reads: the widest window, with a day's margin."""
    cfg = cfg or config()
    return at - dt.timedelta(days=max(cfg["cluster_days"], cfg["window_days"]) + 1)


def _candidates(keys: list[int], since: dt.datetime, cfg: dict, *, exclude_pk=None):
    """(pk, signature) of the orders received since `since` sharing band keys with a text, the most
    shared first, from this process's copy of the band index (`band_index.py`), brought up to date
    first. A key shared by very many orders (the signature's two minima fell on bigrams nearly every
    message has) says little and costs much, so keys with more than `max_postings` orders are left
    out."""
    if not keys:
        return []
    band_index.INDEX.sync(min(since, horizon(now(), cfg)))
    return band_index.INDEX.candidates(
        keys, since, max_postings=cfg["max_postings"], limit=cfg["max_candidates"], exclude=exclude_pk
    )


def _close_ids(sig, since: dt.datetime, threshold: float, cfg: dict, *, exclude_pk=None) -> list[int]:
    """Indexed orders whose stored signatures estimate at least `threshold` (less the margin)."""
    rows = _candidates(similar.keys_of(sig), since, cfg, exclude_pk=exclude_pk)
    if not rows:
        return []
    estimated = similar.estimates(sig, [r[1] for r in rows])
    return [r[0] for r, e in zip(rows, estimated, strict=True) if e >= threshold - cfg["estimate_margin"]]


def _read_candidates(ids, since: dt.datetime, *, open_only: bool) -> list[Candidate]:
    """What memory proposed, checked against the database: status, place and text read now."""
    found = []
    ids = list(ids)
    for start in range(0, len(ids), 900):  # SQLite's limit on parameters
        rows = WorkOrder.objects.filter(pk__in=ids[start : start + 900], received_at__gte=since)
        if open_only:
            rows = rows.filter(status__in=OPEN_STATUSES)
        found += [Candidate(*r) for r in rows.values_list(*_PLACE_FIELDS, "text")]
    return found


def _scored(probe: WorkOrder, mine: frozenset, others, threshold: float, cfg: dict) -> list[Match]:
    """The others (with their normalised texts) at the probe's place and at least `threshold` similar."""
    out = []
    for other, text in others:
        if not same_place(probe, other, cfg["place_metres"]):
            continue
        score = similar.jaccard(mine, similar.bigrams(text))
        if score >= threshold:
            out.append(Match(other, round(score, 4)))
    return out


def _ranked(matches: list[Match]) -> list[Match]:
    return sorted(matches, key=lambda m: (-m.score, m.order.received_at))


def _matches(
    probe: WorkOrder, *, since: dt.datetime, threshold: float, open_only: bool, exclude_pk=None
) -> list[Match]:
    """Orders received since `since` whose text is at least `threshold` similar to the probe's and
    whose place agrees, most similar first. Candidates come from the band index, never a scan; their
    stored signatures estimate the similarity, and only the close ones are read and compared exactly."""
    cfg = config()
    text = similar.text_of(probe.text)
    sig = similar.signature(text)
    if sig is None:
        return []
    close_ids = _close_ids(sig, since, threshold, cfg, exclude_pk=exclude_pk)
    if not close_ids:
        return []
    close = _read_candidates(close_ids, since, open_only=open_only)
    others = [(c, similar.text_of(c.text)) for c in close]
    return _ranked(_scored(probe, similar.bigrams(text), others, threshold, cfg))


@dataclass
class Plan:
    """What the duplicate check found for a new order before it is written: its signature, band keys
    and matches (the order's cluster and signature are set from it, so the row is written once)."""

    signature: object
    keys: list[int]
    matches: list[Match]


def _windows(at: dt.datetime, cfg: dict) -> tuple[dt.datetime, float]:
    """Since when intake looks, and the lowest similarity it keeps (cluster or duplicate)."""
    since = at - dt.timedelta(days=max(cfg["cluster_days"], cfg["window_days"]))
    return since, min(cfg["cluster_threshold"], cfg["duplicate_threshold"])


def _decide(order: WorkOrder, sig, matches: list[Match], cfg: dict) -> Plan:
    related = [m for m in matches if m.score >= cfg["cluster_threshold"]]
    order.cluster = (related[0].order.cluster or related[0].order.number) if related else order.number
    order.signature = similar.to_bytes(sig)
    return Plan(sig, sorted(set(similar.keys_of(sig))), matches)


def plan(order: WorkOrder, at: dt.datetime) -> Plan:
    """At intake, before the order is saved: look for similar orders and choose its cluster."""
    cfg = config()
    since, low = _windows(at, cfg)
    sig = similar.signature(similar.text_of(order.text))
    matches = _matches(order, since=since, threshold=low, open_only=False, exclude_pk=order.pk)
    return _decide(order, sig, matches, cfg)


def plan_many(orders: list[WorkOrder], at: dt.datetime) -> list[Plan]:
    """`plan` for a batch received together, in its order: each order is checked against the indexed
    orders and against the batch's earlier orders (not written yet, so not in the index), as if they
    had arrived one by one. The indexed candidates of the whole batch are read in one query."""
    cfg = config()
    since, low = _windows(at, cfg)
    texts = [similar.text_of(o.text) for o in orders]
    sigs = [similar.signature(t) for t in texts]
    close_ids = [_close_ids(sig, since, low, cfg) if sig is not None else [] for sig in sigs]
    stored = {
        c.pk: c for c in _read_candidates({i for ids in close_ids for i in ids}, since, open_only=False)
    }
    earlier_by_key: dict[int, list[int]] = {}
    plans = []
    for i, order in enumerate(orders):
        sig, matches = sigs[i], []
        keys = set(similar.keys_of(sig))
        if sig is not None:
            others = [(stored[pk], similar.text_of(stored[pk].text)) for pk in close_ids[i] if pk in stored]
            earlier = sorted({j for key in keys for j in earlier_by_key.get(key, ())})
            others += [
                (orders[j], texts[j])
                for j in earlier
                if float((sigs[j] == sig).mean()) >= low - cfg["estimate_margin"]
            ]
            matches = _ranked(_scored(order, similar.bigrams(texts[i]), others, low, cfg))
        plans.append(_decide(order, sig, matches, cfg))
        for key in keys:
            earlier_by_key.setdefault(key, []).append(i)
    return plans


def _proposed(found: Plan, at: dt.datetime, cfg: dict) -> list[Match]:
    """The matches proposed as duplicates: close enough, open, received within the window."""
    window = at - dt.timedelta(days=cfg["window_days"])
    return [
        m
        for m in found.matches
        if m.score >= cfg["duplicate_threshold"]
        and m.order.status in OPEN_STATUSES
        and m.order.received_at >= window
    ][:3]


def _insert_bands(rows: list[tuple[int, int, object]]) -> None:
    """Band keys (key, order, received) in as few statements as SQLite's parameter limit allows."""
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 300):
            part = rows[start : start + 300]
            cursor.execute(
                "INSERT INTO hotline_orderband (key, order_id, received_at) VALUES "  # noqa: S608
                + ", ".join(["(%s, %s, %s)"] * len(part)),
                [value for row in part for value in row],
            )


def index_order(order: WorkOrder, actor, at: dt.datetime, found: Plan | None = None) -> None:
    """At intake, inside the intake's use case, once the order is saved: index it (its band keys in
    one statement), propose duplicates and warn when its cluster grows fast."""
    if found is None:  # the order was saved without a plan: make one and write what it decided
        found = plan(order, at)
        WorkOrder.objects.filter(pk=order.pk).update(cluster=order.cluster, signature=order.signature)
    index_many([order], actor, at, [found])


def index_many(orders: list[WorkOrder], actor, at: dt.datetime, plans: list[Plan]) -> None:
    """`index_order` for orders saved together: their proposals and band keys written in bulk, and
    each cluster that grew checked once, with the latest of its orders."""
    cfg = config()
    proposals, bands, grown = [], [], {}
    for order, found in zip(orders, plans, strict=True):
        for m in _proposed(found, at, cfg):
            proposals.append(
                DuplicateProposal(order=order, target_id=m.order.pk, score=m.score, created_at=at)
            )
            _event(order, act.DUPLICATE_SUSPECTED, actor, at=at, target=m.order.number, score=m.score)
        received = connection.ops.adapt_datetimefield_value(order.received_at)
        bands += [(key, order.pk, received) for key in found.keys]
        if any(m.score >= cfg["cluster_threshold"] for m in found.matches):
            grown[order.cluster] = order
    if proposals:
        DuplicateProposal.objects.bulk_create(proposals)
    if bands:
        _insert_bands(bands)
    for order in grown.values():
        _check_hotspot(order, actor, at)


# --- hotspots ----------------------------------------------------------------------------------------


def _check_hotspot(order: WorkOrder, actor, at: dt.datetime) -> HotspotWarning | None:
    cfg = config()
    day = dt.timedelta(days=1)
    counts = WorkOrder.objects.filter(cluster=order.cluster, received_at__gte=at - 8 * day).aggregate(
        recent=Count("pk", filter=Q(received_at__gt=at - day)),
        before=Count("pk", filter=Q(received_at__lte=at - day)),
    )
    recent, baseline = counts["recent"], counts["before"] / 7
    if recent < cfg["warn_recent"] or recent < cfg["warn_growth"] * baseline:
        return None
    if HotspotWarning.objects.filter(cluster=order.cluster, at__gt=at - day).exists():
        return None  # warned already today
    seed = WorkOrder.objects.filter(number=order.cluster).only("text", "region_id").first() or order
    warning = HotspotWarning.objects.create(
        cluster=order.cluster,
        at=at,
        recent=recent,
        baseline=round(baseline, 2),
        label=excerpt(seed.text, 60),
        region_id=seed.region_id,
    )
    _event(order, act.HOTSPOT_WARNING, actor, at=at, cluster=order.cluster, recent=recent, baseline=baseline)
    return warning


@dataclass(frozen=True)
class Hotspot:
    cluster: str
    label: str
    region: str
    recent: int
    previous: int
    total: int
    open: int
    last_at: dt.datetime

    @property
    def growth(self) -> float | None:
        """Relative growth against the period before (None when nothing came before)."""
        return round((self.recent - self.previous) / self.previous, 2) if self.previous else None


def _require_reader(actor) -> None:
    _authenticated(actor)
    if not may_read_all(actor):
        raise NotPermitted()


def hotspots(actor, *, days: int = 7, at: dt.datetime | None = None, sort: str = "volume", limit: int = 20):
    """Clusters with at least two orders in the last `days`, ranked by volume (orders in the
    period) or growth (against the period before), counted in the database."""
    _require_reader(actor)
    at = at or now()
    start, before = at - dt.timedelta(days=days), at - dt.timedelta(days=2 * days)
    rows = (
        WorkOrder.objects.filter(received_at__gte=before, received_at__lt=at)
        .exclude(cluster="")
        .values("cluster")
        .annotate(
            recent=Count("pk", filter=Q(received_at__gte=start)),
            previous=Count("pk", filter=Q(received_at__lt=start)),
            open=Count("pk", filter=Q(received_at__gte=start, status__in=OPEN_STATUSES)),
            last_at=Max("received_at"),
        )
        .filter(recent__gte=2)
    )
    rows = list(rows)
    if sort == "growth":
        rows.sort(key=lambda r: (-(r["recent"] - r["previous"]) / max(r["previous"], 1), -r["recent"]))
    else:
        rows.sort(key=lambda r: (-r["recent"], -(r["recent"] - r["previous"])))
    rows = rows[:limit]
    seeds = {
        o.number: o
        for o in WorkOrder.objects.filter(number__in=[r["cluster"] for r in rows]).select_related("region")
    }
    out = []
    for r in rows:
        seed = seeds.get(r["cluster"])
        out.append(
            Hotspot(
                cluster=r["cluster"],
                label=excerpt(seed.text, 60) if seed else r["cluster"],
                region=seed.region.name if seed and seed.region else "",
                recent=r["recent"],
                previous=r["previous"],
                total=r["recent"] + r["previous"],
                open=r["open"],
                last_at=r["last_at"],
            )
        )
    return out


def hotspots_by_region(actor, clusters: list[str], *, days: int = 7, at: dt.datetime | None = None):
    """Orders of the given clusters in the last `days` per region: {region name: {cluster: n}}."""
    _require_reader(actor)
    at = at or now()
    rows = (
        WorkOrder.objects.filter(
            cluster__in=clusters, received_at__gte=at - dt.timedelta(days=days), received_at__lt=at
        )
        .values("cluster", "region__name")
        .annotate(n=Count("pk"))
    )
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["region__name"] or str(_("no region")), {})[r["cluster"]] = r["n"]
    return out


def hotspot_points(
    actor, clusters: list[str], *, days: int = 7, at: dt.datetime | None = None, limit: int = 2000
):
    """Map points (lon, lat, cluster) of the clusters' orders that have coordinates."""
    _require_reader(actor)
    at = at or now()
    return list(
        WorkOrder.objects.filter(
            cluster__in=clusters, received_at__gte=at - dt.timedelta(days=days), latitude__isnull=False
        ).values_list("longitude", "latitude", "cluster")[:limit]
    )


def warnings(actor, *, limit: int = 20):
    _require_reader(actor)
    return list(HotspotWarning.objects.select_related("region")[:limit])


# --- the centre: merge or reject a proposal ------------------------------------------------------------


def proposals(actor, number: str) -> list[DuplicateProposal]:
    """The pending duplicate proposals of an order, for the centre."""
    order = access_order(actor, number)
    if not is_centre(actor):
        return []
    return list(
        DuplicateProposal.objects.filter(
            order=order, status=ProposalStatus.PENDING, target__status__in=OPEN_STATUSES
        )
        .select_related("target")
        .order_by("-score")
    )


def pending_proposals(actor, *, limit: int = 50) -> list[DuplicateProposal]:
    require(actor, perms.HOTLINE_CENTRE)
    return list(
        DuplicateProposal.objects.filter(
            status=ProposalStatus.PENDING, order__status__in=OPEN_STATUSES, target__status__in=OPEN_STATUSES
        )
        .select_related("order", "target")
        .order_by("-created_at")[:limit]
    )


def _copy_requester(target: WorkOrder, source: WorkOrder, at) -> None:
    if source.requester_user_id and (
        source.requester_user_id == target.requester_user_id
        or target.requesters.filter(user_id=source.requester_user_id).exists()
    ):
        return
    Requester.objects.create(
        order=target,
        role=RequesterRole.MERGED,
        user_id=source.requester_user_id,
        name=source.requester_name,
        anonymous=source.anonymous,
        contact_phone=source.contact_phone,
        source=source,
        joined_at=at,
    )


@use_case("hotline.merge_order", object_type="work_order")
def merge(actor, number: str, *, into: str) -> WorkOrder:
    """合并: the centre confirms that an order repeats an earlier open one. The order ends (merged),
    its requesters join the earlier order's, and both histories say so."""
    source = _centre_order(actor, number)
    current().audit.object_ref = source.number
    errors = FieldErrors()
    target = WorkOrder.objects.select_for_update().filter(number=str(into or "")).first()
    if target is None:
        errors.add("into", "unknown", _("No work order has this number."))
    elif target.pk == source.pk:
        errors.add("into", "same", _("An order cannot be merged into itself."))
    elif target.status not in OPEN_STATUSES:
        errors.add("into", "closed", _("Merge only into an open work order."))
    elif target.merged_into_id:
        errors.add("into", "merged", _("That order was itself merged; merge into the one it went to."))
    errors.raise_if_any()
    if source.status not in OPEN_STATUSES:
        raise Conflict(_("The work order is no longer open; it cannot be merged."))
    at = now()
    _copy_requester(target, source, at)
    # whoever followed or was merged into the source now belongs to the target
    for extra in source.requesters.all():
        if extra.user_id and (
            extra.user_id == target.requester_user_id
            or target.requesters.filter(user_id=extra.user_id).exists()
        ):
            extra.delete()
        else:
            extra.order = target
            extra.save(update_fields=["order"])
    for assignment in source.assignments.filter(
        status__in=[AssignmentStatus.DISPATCHED, AssignmentStatus.ACCEPTED]
    ):
        assignment.status = AssignmentStatus.WITHDRAWN
        assignment.ended_at = at
        assignment.save(update_fields=["status", "ended_at"])
    source.status = OrderStatus.MERGED
    source.merged_into = target
    source.closed_at = at
    source.save(update_fields=["status", "merged_into", "closed_at"])
    DuplicateProposal.objects.filter(order=source, target=target).update(
        status=ProposalStatus.MERGED, decided_at=at
    )
    DuplicateProposal.objects.filter(order=source, status=ProposalStatus.PENDING).update(
        status=ProposalStatus.REJECTED, decided_at=at
    )
    _event(source, act.MERGED, actor, at=at, into=target.number)
    _event(target, act.REQUESTER_ADDED, actor, at=at, role=RequesterRole.MERGED, source=source.number)
    current().audit.detail = {"into": target.number}
    return source


@use_case("hotline.reject_duplicate", object_type="work_order")
def reject_duplicate(actor, number: str, *, target: str) -> DuplicateProposal:
    """The centre says an order is not a duplicate of the proposed one."""
    order = _centre_order(actor, number)
    current().audit.object_ref = order.number
    proposal = (
        DuplicateProposal.objects.select_for_update()
        .filter(order=order, target__number=str(target or ""), status=ProposalStatus.PENDING)
        .select_related("target")
        .first()
    )
    if proposal is None:
        raise InvalidInput.single("target", "unknown", _("No pending proposal names this order."))
    at = now()
    proposal.status = ProposalStatus.REJECTED
    proposal.decided_at = at
    proposal.save(update_fields=["status", "decided_at"])
    _event(order, act.DUPLICATE_REJECTED, actor, at=at, target=proposal.target.number)
    return proposal


# --- the citizen: similar open orders, and following one -------------------------------------------------

_DIGITS = re.compile(r"\d{5,}")


def excerpt(text: str, length: int = 80) -> str:
    """The start of a message for people who may not read the order: long digit runs (phone and
    ID numbers) masked."""
    flat = " ".join(str(text or "").split())
    flat = _DIGITS.sub(lambda m: m.group(0)[:2] + "*" * (len(m.group(0)) - 2), flat)
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def _probe(errors: FieldErrors, text, region_code="", address="", latitude=None, longitude=None) -> WorkOrder:
    from .services import _coordinate

    probe = WorkOrder(text=str(text or "")[:5000], address=str(address or "").strip()[:200])
    probe.latitude = _coordinate(errors, "latitude", latitude, 90)
    probe.longitude = _coordinate(errors, "longitude", longitude, 180)
    if (probe.latitude is None) != (probe.longitude is None):
        probe.latitude = probe.longitude = None
    if region_code:
        code = errors.check("region_code", normalize_region_code, region_code)
        region = Region.objects.filter(code=code).first() if code else None
        probe.region_id = region.pk if region else None
    return probe


def similar_open_orders(
    actor,
    *,
    text: str,
    region_code: str = "",
    address: str = "",
    latitude=None,
    longitude=None,
    limit: int = 5,
) -> list[Match]:
    """Open orders like the one being typed (same place, received within the window): the portal
    shows them so the citizen may follow one instead of filing again."""
    _authenticated(actor)
    if not (getattr(actor, "is_citizen", False) or is_centre(actor)):
        raise NotPermitted()
    errors = FieldErrors()
    probe = _probe(errors, text, region_code, address, latitude, longitude)
    errors.raise_if_any()
    if len(similar.text_of(probe.text)) < 6:
        return []
    cfg = config()
    since = now() - dt.timedelta(days=cfg["window_days"])
    found = _matches(probe, since=since, threshold=cfg["follow_threshold"], open_only=True)[:limit]
    orders = WorkOrder.objects.in_bulk([m.order.pk for m in found])
    return [Match(orders[m.order.pk], m.score) for m in found if m.order.pk in orders]


def is_follower(actor, order: WorkOrder) -> bool:
    user = getattr(actor, "user", None)
    return user is not None and order.requesters.filter(user=user).exists()


@use_case("hotline.follow_order", object_type="work_order")
def follow(actor, number: str, *, text: str) -> WorkOrder:
    """A citizen follows an open order like theirs instead of filing: they become one of its
    requesters and see it among their orders. The draft they typed must match it (so an order
    cannot be followed by guessing its number)."""
    _authenticated(actor)
    if not getattr(actor, "is_citizen", False):
        raise NotPermitted()
    order = WorkOrder.objects.select_for_update().filter(number=str(number or "")).first()
    if order is None or order.status not in OPEN_STATUSES:
        raise NotFound()
    current().audit.object_ref = order.number
    if similar.similarity(text, order.text) < config()["follow_threshold"]:
        raise InvalidInput.single(
            "text", "not_similar", _("Your message is not similar enough to this order.")
        )
    user = actor.user
    if order.requester_user_id == user.pk or order.requesters.filter(user=user).exists():
        raise Conflict(_("You already follow this work order."))
    person = getattr(actor, "person", None)
    at = now()
    Requester.objects.create(
        order=order,
        role=RequesterRole.FOLLOWER,
        user=user,
        name=person.name if person is not None else "",
        contact_phone=(person.phone or "") if person is not None else "",
        joined_at=at,
    )
    _event(order, act.REQUESTER_ADDED, actor, at=at, role=RequesterRole.FOLLOWER, source="")
    return order


def requesters(actor, order: WorkOrder) -> list[Requester]:
    """The further requesters of an order, for the centre."""
    if not is_centre(actor):
        return []
    return list(order.requesters.select_related("source"))


# --- reply suggestions ---------------------------------------------------------------------------------


@use_case("hotline.import_replies", object_type="hotline_past_reply")
def import_replies(actor, rows) -> int:
    """Add past messages with their official replies (ref, subject, text, reply, asked_at,
    replied_at); a reference already held is skipped. Returns how many were added."""
    require(actor, perms.HOTLINE_CENTRE)
    held = set(PastReply.objects.values_list("ref", flat=True))
    fresh = []
    for row in rows:
        ref = str(row.get("ref") or "").strip()[:40]
        text = str(row.get("text") or "").strip()
        reply = str(row.get("reply") or "").strip()
        if not ref or not text or not reply or ref in held:
            continue
        held.add(ref)
        fresh.append(
            PastReply(
                ref=ref,
                subject=str(row.get("subject") or "").strip()[:200],
                text=text,
                reply=reply,
                asked_at=row.get("asked_at"),
                replied_at=row.get("replied_at"),
            )
        )
    PastReply.objects.bulk_create(fresh, batch_size=500)
    current().audit.detail = {"added": len(fresh)}
    return len(fresh)


class _KnowledgeIndex:
    """TF-IDF over character 1–2-grams of the knowledge base — past messages (subject and opening)
    and policy texts (title and text) — cosine nearest neighbours; rebuilt when either table changes
    (count and last id), per process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stamp = None
        self.keys: list[tuple[str, int]] = []
        self.vectorizer = None
        self.matrix = None

    @staticmethod
    def _stamp():
        return (
            tuple(PastReply.objects.aggregate(n=Count("pk"), last=Max("pk")).values()),
            tuple(PolicyText.objects.aggregate(n=Count("pk"), last=Max("pk")).values()),
        )

    def get(self):
        stamp = self._stamp()
        with self.lock:
            if stamp != self.stamp:
                from sklearn.feature_extraction.text import TfidfVectorizer

                rows = [
                    ("reply", pk, f"{subject} {text}")
                    for pk, subject, text in PastReply.objects.values_list("pk", "subject", "text")
                ]
                rows += [
                    ("policy", pk, f"{title} {body}")
                    for pk, title, body in PolicyText.objects.values_list("pk", "title", "body")
                ]
                self.keys = [(kind, pk) for kind, pk, _text in rows]
                self.vectorizer = self.matrix = None
                if rows:
                    self.vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
                    self.matrix = self.vectorizer.fit_transform(
                        [similar.text_of(text) for _k, _pk, text in rows]
                    )
                self.stamp = stamp
            return self.keys, self.vectorizer, self.matrix


_knowledge_index = _KnowledgeIndex()


@dataclass(frozen=True)
class KnowledgeHit:
    """A knowledge base entry close to a message: a past message with its official reply, or a
    policy text. `key` names it on an answer given from it (直接办结)."""

    kind: str  # "reply" or "policy"
    ref: str
    title: str
    question: str  # the past message ("" for a policy)
    answer: str  # the official reply, or the policy's text
    source: str  # the policy's issuer ("" for a reply)
    score: float

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref}"


def _search(text: str, *, limit: int, minimum: float) -> list[KnowledgeHit]:
    keys, vectorizer, matrix = _knowledge_index.get()
    probe = similar.text_of(text or "")
    if not keys or not probe:
        return []
    scores = (matrix @ vectorizer.transform([probe]).T).toarray().ravel()
    best = [i for i in scores.argsort()[::-1][:limit] if scores[i] >= minimum]
    replies = PastReply.objects.in_bulk([keys[i][1] for i in best if keys[i][0] == "reply"])
    policies = PolicyText.objects.in_bulk([keys[i][1] for i in best if keys[i][0] == "policy"])
    out = []
    for i in best:
        kind, pk = keys[i]
        score = round(float(scores[i]), 3)
        if kind == "reply" and pk in replies:
            r = replies[pk]
            out.append(KnowledgeHit("reply", r.ref, r.subject or r.ref, r.text, r.reply, "", score))
        elif kind == "policy" and pk in policies:
            p = policies[pk]
            out.append(KnowledgeHit("policy", p.ref, p.title, "", p.body, p.issuer, score))
    return out


def suggest_replies(actor, number: str, *, limit: int = 3, minimum: float = 0.2) -> list[KnowledgeHit]:
    """The knowledge base entries most like this order's text (past messages with their official
    replies, policy texts): for the centre and the departments handling it."""
    from .services import _handling_assignments

    order = access_order(actor, number)
    if not (is_centre(actor) or _handling_assignments(actor, order)):
        raise NotPermitted()
    return _search(order.text, limit=limit, minimum=minimum)


def knowledge_for(actor, text: str, *, limit: int = 5, minimum: float = 0.15) -> list[KnowledgeHit]:
    """What the operator may answer a caller from while they talk (the console, 直接办结)."""
    require(actor, perms.HOTLINE_CENTRE)
    return _search(str(text or "")[:5000], limit=limit, minimum=minimum)


@use_case("hotline.import_policies", object_type="hotline_policy_text")
def import_policies(actor, rows) -> int:
    """Add policy texts to the knowledge base (ref, title, body, issuer, issued_on); a reference
    already held is skipped. Returns how many were added."""
    require(actor, perms.HOTLINE_CENTRE)
    held = set(PolicyText.objects.values_list("ref", flat=True))
    fresh = []
    for row in rows:
        ref = str(row.get("ref") or "").strip()[:40]
        title = str(row.get("title") or "").strip()[:200]
        body = str(row.get("body") or "").strip()
        if not ref or not title or not body or ref in held:
            continue
        held.add(ref)
        fresh.append(
            PolicyText(
                ref=ref,
                title=title,
                body=body,
                issuer=str(row.get("issuer") or "").strip()[:100],
                issued_on=row.get("issued_on"),
            )
        )
    PolicyText.objects.bulk_create(fresh, batch_size=500)
    current().audit.detail = {"added": len(fresh)}
    return len(fresh)
