"""licence_verify: licence signature verifications per second on one core, and our overhead.

What is timed is the whole offline check a verifier runs on a scanned QR code
(`licences.render.verify_offline`): base64 and zlib decoding, JSON parsing, key lookup, the SM2
verification (GB/T 32918, SM3 with the Z value of the default ID) and the expiry check. The
reference, measured in the same run on the same payloads and signatures, is the SM2 library's own
verify call (tongsuopy's `public_key.verify(der_signature, message, SM3)`) with keys loaded and
signatures DER-encoded beforehand — the floor no wrapper can beat. Both run pinned to one core,
interleaved over several rounds; medians are reported. The online check by code
(`services.verify`, a database read plus the same verification) is shown for information.

Target: at least 2,000 verifications/s on one core, and our overhead at most 20 % (ratio >= 0.80).
"""

import os
import statistics
import sys
import tempfile
import time

LICENCES = 300
ROUNDS = 7
TARGET_RATE = 2000.0
TARGET_RATIO = 0.80


def _timed(fn, items) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - start)


def main() -> int:
    from tests.bench import harness

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    harness.configure(f"sqlite:///{tempfile.mkdtemp(prefix='tongban-bench-')}/bench.sqlite3")

    from rich.progress import track
    from rich.table import Table

    from tongban.accounts.seed import demo_uscc, seed_demo
    from tongban.core import sm2
    from tongban.core.authz import SYSTEM
    from tongban.licences import demo, render, services
    from tongban.licences.models import Licence

    seed_demo()
    demo.load_types()
    kinds = [
        (
            "food_business_licence",
            demo_uscc("511602MA62K3LP0"),
            {
                "business_form": "餐饮服务经营者",
                "business_items": "热食类食品制售；冷食类食品制售",
                "address": "广安区建设路12号",
            },
        ),
        (
            "business_licence",
            demo_uscc("511602MA6B7QW1X"),
            {
                "legal_representative": "李四",
                "address": "广安区示例大道18号",
                "scope": "建材批发、零售；五金交电销售",
            },
        ),
    ]
    for i in track(range(LICENCES), description="Issuing licences to verify"):
        type_code, holder, fields = kinds[i % len(kinds)]
        services.issue(SYSTEM, type_code, holder_id=holder, holder_name=f"示例企业{i}", fields=fields)
    licences = list(Licence.objects.select_related("key__department"))
    texts = [render.qr_text(lic) for lic in licences]
    codes = [lic.code for lic in licences]
    keys = render.key_table(services.public_keys())
    # The library's own call, everything it does not do itself prepared beforehand.
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    raw = []
    for lic in licences:
        sig = bytes.fromhex(lic.signature)
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        raw.append((keys[(lic.key.department.code, lic.key.key_id)], lic.payload.encode(), der))
    algorithm = sm2._ALGORITHM

    def library(item):
        key, message, der = item
        key.verify(der, message, algorithm)

    def ours(text):
        if not render.verify_offline(text, keys).ok:
            raise AssertionError("a genuine licence failed to verify")

    def online(code):
        if services.verify(code).status != "valid":
            raise AssertionError("a genuine licence failed to verify online")

    ours_rates, library_rates, online_rates = [], [], []
    for _ in track(range(ROUNDS), description="Verifying (interleaved rounds)"):
        library_rates.append(_timed(library, raw))
        ours_rates.append(_timed(ours, texts))
        online_rates.append(_timed(online, codes))
    ours_rate = statistics.median(ours_rates)
    library_rate = statistics.median(library_rates)
    online_rate = statistics.median(online_rates)
    ratio = ours_rate / library_rate

    table = Table(title=f"licence_verify: {len(texts)} licences × {ROUNDS} rounds, one core")
    for col in ("path", "verifications/s (median)", "vs library"):
        table.add_column(col, justify="right")
    table.add_row("tongsuopy verify call (reference)", f"{library_rate:,.0f}", "1.00")
    table.add_row("offline QR check (verify_offline)", f"{ours_rate:,.0f}", f"{ratio:.2f}")
    table.add_row(
        "online check by code (services.verify, SQLite)",
        f"{online_rate:,.0f}",
        f"{online_rate / library_rate:.2f}",
    )
    harness.console.print(table)
    passed = ours_rate >= TARGET_RATE and ratio >= TARGET_RATIO
    harness.bench_line(
        "licence_verify",
        ours_rate,
        "verifies/s(1core)",
        ratio,
        f">={TARGET_RATE:.0f}/s,ratio>={TARGET_RATIO:.2f}",
        passed,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
