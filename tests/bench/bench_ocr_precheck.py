"""ocr_precheck: 智能预审 on a generated test set — how many fields are read right, how often a scan
of the wrong document is caught, and how long a page takes on one core.

The test set is drawn from a seed at run time (cases.precheck_samples: five kinds of material —
ID card, business licence, real-estate certificate, signed application form, household register —
drawn with the three CJK fonts we ship, then rotated, blurred, noised and JPEG-compressed) into a
temporary directory and read back from the files. ONNX Runtime and OpenCV get one thread each, so
the time per page is that of one core (decoding, OCR and the seal search included).

Targets: field accuracy ≥ 95 %, wrong-document detection ≥ 95 %, ≤ 2 s per page on one core.
"""

import os
import secrets
import sys
import time
from collections import Counter

COUNT = int(os.environ.get("TONGBAN_BENCH_OCR_COUNT", "200"))
SEED = 16
TARGET_ACCURACY = 0.95
TARGET_DETECTION = 0.95
TARGET_SECONDS = 2.0


def main() -> int:
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    os.environ["TONGBAN_OCR_THREADS"] = "1"
    os.environ.setdefault("TONGBAN_SECRET_KEY", secrets.token_hex(32))
    os.environ.setdefault("TONGBAN_MASTER_KEY", secrets.token_hex(32))
    os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tongban.settings"
    import django

    django.setup()  # settings only: reading and scoring touch no database
    from tests.bench import harness
    from tongban.cases import ocr, precheck_samples

    started = time.perf_counter()
    ocr.engine()
    print(f"engine loaded in {time.perf_counter() - started:.2f} s (1 thread)")
    started = time.perf_counter()
    score = precheck_samples.evaluate(COUNT, SEED)
    took = time.perf_counter() - started
    load = os.getloadavg()[0]
    per_kind = Counter(m[0].split("-")[0] for m in score.misses)
    per_field = Counter(m[1] for m in score.misses)
    print(f"{score.samples} scans of 5 kinds (seed {SEED}) drawn, written and read in {took:.1f} s")
    print(f"load average: {load:.2f}")
    print(f"fields: {score.fields_right}/{score.fields} right ({score.field_accuracy:.1%})")
    print(f"misses by kind: {dict(per_kind)}; by field: {dict(per_field)}")
    for miss in score.misses[:10]:
        print("  miss:", *miss)
    print(
        f"wrong document caught: {score.wrong_kind_caught}/{score.wrong_kind_trials} "
        f"({score.wrong_kind_detection:.1%}); right document called wrong: {score.false_alarms}/"
        f"{score.right_kind_trials}"
    )
    seconds = sorted(score.seconds)
    p95 = seconds[max(0, int(len(seconds) * 0.95) - 1)]
    print(f"seconds per page on one core: mean {score.seconds_per_page:.2f}, p95 {p95:.2f}")
    passed = (
        score.field_accuracy >= TARGET_ACCURACY
        and score.wrong_kind_detection >= TARGET_DETECTION
        and score.seconds_per_page <= TARGET_SECONDS
    )
    print(
        f"detection={score.wrong_kind_detection:.1%} seconds_per_page={score.seconds_per_page:.2f} "
        f"false_alarms={score.false_alarms}"
    )
    harness.bench_line(
        "ocr_precheck",
        score.field_accuracy * 100,
        "%fields",
        None,
        "fields>=95%,wrong_type>=95%,page<=2s",
        passed,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
