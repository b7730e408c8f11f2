"""The LSH band index of recent orders, kept in memory per process (`similar.py` for the hashing).

The duplicate check looked its candidates up in the `hotline_orderband` table: three queries and a
read of the candidates' signatures per new order, most of the intake's time. This process keeps
instead the band keys (sorted numpy arrays, plus a small dictionary of the latest additions that is
merged in from time to time) and the signatures and receiving times of the orders received in the
cluster window. Before each lookup it reads what other processes added since — the table is its
change log: the band rows with an id above the highest it has seen, and the ids it skipped because
their transaction had not committed yet (PostgreSQL hands out ids before commit; SQLite writes one
transaction at a time). An order's rows commit together, so an order is loaded whole or not at all.

Nothing is decided from memory alone: the candidates found here are read from the database before
anything is written about them (an order deleted or rolled back is simply not found).
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import numpy as np
from django.db import connection

from . import similar

MERGE_AT = 50_000  # postings in the recent dictionary before they are merged into the sorted arrays
GAP_SECONDS = 120  # how long an id skipped by the change log is looked for again
MAX_GAPS = 5_000
CHUNK = 100_000


def _epoch(value) -> float:
    if isinstance(value, str):  # SQLite through a raw cursor
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


class BandIndex:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.keys = np.empty(0, dtype=np.int64)  # sorted band keys …
        self.postings = np.empty(0, dtype=np.int64)  # … and the order of each
        self.recent: dict[int, list[int]] = {}  # key → orders, added since the last merge
        self.recent_count = 0
        self.orders: dict[int, tuple[float, bytes]] = {}  # order → (received, signature)
        self.mark = 0  # the highest band row id read
        self.gaps: dict[int, float] = {}  # band row ids skipped below the mark → when first missed
        self.horizon = 0.0  # orders received before this are not kept
        self.loaded_for = None  # (database alias, name): an index belongs to one database

    # --- reading the change log ---------------------------------------------------------------------

    def sync(self, horizon: dt.datetime) -> None:
        """Read the band rows committed since the last look (the first call reads the whole window)."""
        with self.lock:
            identity = (connection.alias, connection.settings_dict.get("NAME"))
            if self.loaded_for != identity:
                self.reset()
                self.loaded_for = identity
            start = horizon.timestamp()
            if start > self.horizon + 86_400:
                self._prune(start)
            if not self.orders and not self.mark:
                self.horizon = start
            self._read(horizon)

    def _read(self, horizon: dt.datetime) -> None:
        now = time.monotonic()
        gaps = [g for g, seen in self.gaps.items() if now - seen < GAP_SECONDS]
        self.gaps = {g: self.gaps[g] for g in gaps}
        params: list = [self.mark]
        where = "id > %s"
        if gaps:
            where = f"(id > %s OR id IN ({', '.join(['%s'] * len(gaps))}))"
            params += gaps
        if not self.mark:
            # the first load: only the window (the index on (key, received_at) is no help here)
            where += " AND received_at >= %s"
            params.append(connection.ops.adapt_datetimefield_value(horizon))
        new_orders: dict[int, list[int]] = {}
        seen_ids: list[int] = []
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, key, order_id FROM hotline_orderband WHERE {where} ORDER BY id",  # noqa: S608 (placeholders only)
                params,
            )
            while True:
                rows = cursor.fetchmany(CHUNK)
                if not rows:
                    break
                for row_id, key, order_id in rows:
                    seen_ids.append(row_id)
                    if order_id not in self.orders:
                        new_orders.setdefault(order_id, []).append(key)
        if seen_ids:
            top = max(seen_ids)
            if self.mark:
                seen = set(seen_ids)
                for missing in range(self.mark + 1, top):
                    if missing not in seen and len(self.gaps) < MAX_GAPS:
                        self.gaps.setdefault(missing, now)
            for row_id in seen_ids:
                self.gaps.pop(row_id, None)
            self.mark = max(self.mark, top)
        if new_orders:
            self._add(new_orders)

    def _add(self, new_orders: dict[int, list[int]]) -> None:
        ids = list(new_orders)
        with connection.cursor() as cursor:
            for start in range(0, len(ids), 900):  # SQLite's limit on parameters
                part = ids[start : start + 900]
                cursor.execute(
                    "SELECT id, received_at, signature FROM hotline_workorder "  # noqa: S608
                    f"WHERE id IN ({', '.join(['%s'] * len(part))})",
                    part,
                )
                for order_id, received_at, signature in cursor.fetchall():
                    self.orders[order_id] = (_epoch(received_at), bytes(signature or b""))
        for order_id, keys in new_orders.items():
            if order_id not in self.orders:
                continue  # gone since (deleted): nothing to index
            for key in keys:
                self.recent.setdefault(key, []).append(order_id)
            self.recent_count += len(keys)
        if self.recent_count >= MERGE_AT:
            self._merge()

    def _merge(self) -> None:
        if not self.recent:
            return
        pairs = [(k, o) for k, orders in self.recent.items() for o in orders]
        keys = np.fromiter((k for k, _o in pairs), dtype=np.int64, count=len(pairs))
        postings = np.fromiter((o for _k, o in pairs), dtype=np.int64, count=len(pairs))
        keys = np.concatenate([self.keys, keys])
        postings = np.concatenate([self.postings, postings])
        order = np.argsort(keys, kind="stable")
        self.keys, self.postings = keys[order], postings[order]
        self.recent, self.recent_count = {}, 0

    def _prune(self, start: float) -> None:
        """Forget the orders received before the window (once a day of drift)."""
        self._merge()
        old = {o for o, (received, _s) in self.orders.items() if received < start}
        if old:
            keep = ~np.isin(self.postings, np.fromiter(old, dtype=np.int64, count=len(old)))
            self.keys, self.postings = self.keys[keep], self.postings[keep]
            for o in old:
                del self.orders[o]
        self.horizon = start

    # --- lookups ---------------------------------------------------------------------------------------

    def candidates(
        self, keys: list[int], since: dt.datetime, *, max_postings: int, limit: int, exclude=None
    ) -> list[tuple[int, bytes]]:
        """(order, signature) of the orders received since `since` sharing band keys with a text,
        the most shared first (then the newest). A key more than `max_postings` orders share says
        little and is left out."""
        if not keys:
            return []
        with self.lock:
            probe = np.asarray(keys, dtype=np.int64)
            left = np.searchsorted(self.keys, probe, side="left")
            right = np.searchsorted(self.keys, probe, side="right")
            lists = []
            for key, lo, hi in zip(keys, left, right, strict=True):
                extra = self.recent.get(key, ())
                if (hi - lo) + len(extra) > max_postings:
                    continue
                if hi > lo:
                    lists.append(self.postings[lo:hi])
                if extra:
                    lists.append(np.asarray(extra, dtype=np.int64))
            if not lists:
                return []
            found, shared = np.unique(np.concatenate(lists), return_counts=True)
            # the most shared first, then the newest: ranked in numpy, and only as many read as kept
            ranked = found[np.lexsort((-found, -shared))].tolist()
            start = since.timestamp()
            rows = []
            for order_id in ranked:
                entry = self.orders.get(order_id)
                if entry is None or entry[0] < start or order_id == exclude:
                    continue
                rows.append((order_id, entry[1]))
                if len(rows) == limit:
                    break
        return rows


INDEX = BandIndex()


def clear() -> None:
    """Forget everything (tests roll rows back; the next lookup reloads the window)."""
    with INDEX.lock:
        INDEX.reset()


def keys_and_signature(text: str):
    sig = similar.signature(similar.text_of(text))
    return sig, similar.keys_of(sig)
