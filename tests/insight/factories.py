"""Case facts written by hand, for dashboard tests: three bureaus, one of them late on most cases."""

import datetime as dt
from pathlib import Path

from tongban.insight import eventlog, facts


def fact(number, bureau, *, on_time=True, days=2.0, rating=5, closed=True, when=None):
    when = when or dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=3)
    return {
        "number": number,
        "department": bureau,
        "department_path": f"/gov/{bureau}/",
        "region": "511602",
        "item": f"{bureau}-item",
        "channel": "online",
        "window_kind": None,
        "status": "issued" if closed else "in_progress",
        "decision": "approve",
        "submitted_at": when - dt.timedelta(days=2),
        "accepted_at": when - dt.timedelta(days=2),
        "closed_at": when if closed else None,
        "limit_days": 3,
        "statutory_days": 10,
        "promised_days": 3,
        "processing_days": days if closed else None,
        "on_time": on_time if closed else None,
        "visits": 0,
        "by_commitment": False,
        "auto_eligible": False,
        "auto_decided": False,
        "materials_required": 3,
        "materials_exempted": 1,
        "materials_paper": 0,
        "pages": 2,
        "staff_minutes": 20.0,
        "rating": rating,
        "bad_rectified_in_time": None if rating is None or rating > 2 else True,
    }


def write_facts(path: Path, rows: list[dict]) -> Path:
    con = eventlog.connect()
    con.execute(
        "CREATE TABLE f (" + ", ".join(f"{c} {facts.TYPES.get(c, 'VARCHAR')}" for c in facts.COLUMNS) + ")"
    )
    marks = ", ".join("?" * len(facts.COLUMNS))
    for row in rows:
        con.execute(f"INSERT INTO f VALUES ({marks})", [row[c] for c in facts.COLUMNS])
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY f TO '{path}' (FORMAT PARQUET)")
    return path


def three_bureaus() -> list[dict]:
    rows = [fact(f"S{i}", "scjgj", days=1.5) for i in range(10)]
    rows += [fact(f"X{i}", "xzspj", days=2.5, on_time=i < 23, rating=4) for i in range(25)]  # 92 %
    rows += [fact(f"R{i}", "rsj", days=5.0, on_time=i < 5, rating=2 if i < 3 else 5) for i in range(10)]
    return rows
