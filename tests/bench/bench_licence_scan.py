"""licence_scan: memory and time of the public scan (扫码核验) per uploaded file, bombs included.

Each file is read by `licences.render.read_qr_file` — the upload checks of core.files, the pixel
limit from the header, JPEG decoding at reduced scale, zxing — in a fresh process, so the peak
resident memory it adds (ru_maxrss after minus before) is that one call's; Python-side allocations
(tracemalloc, which also sees Pillow's pixel buffers) are shown beside it. The reference, measured
in the same run on the same files, is the reading it replaces: Pillow decodes whatever the header
declares, converts it to grey and hands it to zxing. Files: a 97 KB PNG declaring 10000 × 10000
pixels (issue 9: 316 MB and ~1 s per request), the licence PNG as rendered, a 12-megapixel phone
photo (JPEG) with the QR in it, and a 24-megapixel PNG scan — the largest image the scan accepts.

Target: the pixel bomb costs at most 16 MB and 0.1 s; the largest accepted image at most 160 MB.
"""

import io
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zlib

BOMB_TARGET_MB = 16.0
BOMB_TARGET_S = 0.1
LARGEST_TARGET_MB = 160.0
FILES = {"bomb_png": "png", "licence_png": "png", "photo_jpeg_12mp": "jpg", "scan_png_24mp": "png"}


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _bomb() -> bytes:
    squeeze = zlib.compressobj(9)
    row = b"\x00" * 10_001
    body = b"".join(squeeze.compress(row) for _ in range(10_000)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", 10_000, 10_000, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def _qr(scale: int):
    import segno
    from PIL import Image

    text = "TBL1." + "eNp" + "A" * 640 + "." + "B" * 86  # the length of a licence's code
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="png", scale=scale, border=4)
    return Image.open(out).convert("RGB")


def _photo(width: int, height: int, kind: str) -> bytes:
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (width, height), (214, 208, 196))
    draw = ImageDraw.Draw(canvas)
    for x in range(0, width, 37):  # texture, so the encoders have something to encode
        draw.line([(x, 0), (x + height // 3, height)], fill=(190, 184, 170), width=3)
    qr = _qr(max(4, width // 900))
    canvas.paste(qr, (width // 2, height // 4))
    out = io.BytesIO()
    canvas.save(out, format=kind, **({"quality": 88} if kind == "JPEG" else {"compress_level": 6}))
    return out.getvalue()


def build(name: str) -> bytes:
    if name == "bomb_png":
        return _bomb()
    if name == "licence_png":
        return _photo(1400, 900, "PNG")
    if name == "photo_jpeg_12mp":
        return _photo(4000, 3000, "JPEG")
    return _photo(6000, 4000, "PNG")


def _reference(content: bytes) -> str:
    """What the scan did before: decode what the header says, grey, zxing."""
    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(content))
    for barcode in zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode):
        return barcode.text
    return ""


def measure(name: str, path: str, file: str) -> dict:
    """In this (fresh) process: peak memory and time of one reading of one file (built beforehand
    by the parent, so that making it does not raise this process's peak)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    os.environ.setdefault("TONGBAN_VAR_DIR", tempfile.mkdtemp(prefix="tongban-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{os.environ['TONGBAN_VAR_DIR']}/unused.sqlite3")
    import warnings

    import django

    django.setup()
    import zxingcpp  # noqa: F401  (imported before the baseline is taken)
    from PIL import Image  # noqa: F401

    from tongban.core.errors import InvalidInput
    from tongban.licences import render

    warnings.simplefilter("ignore")  # Pillow warns about the bomb on the reference path
    with open(file, "rb") as fh:
        content = fh.read()

    def read():
        try:
            if path == "ours":
                return "text" if render.read_qr_file(f"{name}.{FILES[name]}", content) else "none"
            return "text" if _reference(content) else "none"
        except InvalidInput as refused:
            return "refused:" + ",".join(p.code for p in refused.fields["file"])

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.perf_counter()
    outcome = read()
    first = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = [first]
    for _ in range(2):
        start = time.perf_counter()
        read()
        times.append(time.perf_counter() - start)
    return {
        "outcome": outcome,
        "size_kb": len(content) / 1024,
        "rss_mb": (after - before) / 1024,
        "traced_mb": traced / 2**20,
        "seconds": statistics.median(times),
    }


def main() -> int:
    from rich.table import Table

    from tests.bench import harness

    results: dict[tuple[str, str], dict] = {}
    folder = tempfile.mkdtemp(prefix="tongban-bench-scan-")
    with harness.console.status("licence_scan: measuring") as status:
        for name in FILES:
            status.update(f"licence_scan: making {name}")
            file = os.path.join(folder, f"{name}.{FILES[name]}")
            with open(file, "wb") as fh:
                fh.write(build(name))
            for path in ("ours", "reference"):
                status.update(f"licence_scan: {name}, {path}")
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "tests.bench.bench_licence_scan",
                        "--file",
                        name,
                        "--path",
                        path,
                        "--at",
                        file,
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if out.returncode != 0:
                    harness.console.print(out.stderr[-2000:])
                    return 1
                results[(name, path)] = json.loads(out.stdout.strip().splitlines()[-1])
    table = Table(title="licence_scan: one uploaded file, fresh process each")
    for col in ("file", "size", "reading", "outcome", "peak RSS added (MB)", "traced peak (MB)", "seconds"):
        table.add_column(col, justify="right")
    for (name, path), r in results.items():
        table.add_row(
            name,
            f"{r['size_kb']:,.0f} KB",
            "ours" if path == "ours" else "before (reference)",
            r["outcome"],
            f"{r['rss_mb']:.1f}",
            f"{r['traced_mb']:.1f}",
            f"{r['seconds']:.3f}",
        )
    harness.console.print(table)
    bomb, bomb_ref = results[("bomb_png", "ours")], results[("bomb_png", "reference")]
    largest = results[("scan_png_24mp", "ours")]
    bomb_mb = max(bomb["rss_mb"], bomb["traced_mb"])
    largest_mb = max(largest["rss_mb"], largest["traced_mb"])
    readable = all(results[(n, "ours")]["outcome"] == "text" for n in FILES if n != "bomb_png")
    passed = (
        bomb["outcome"] == "refused:too_many_pixels"
        and bomb_mb <= BOMB_TARGET_MB
        and bomb["seconds"] <= BOMB_TARGET_S
        and largest_mb <= LARGEST_TARGET_MB
        and readable
    )
    if not readable:
        harness.console.print("[red]a genuine image's QR code was not read[/]")
    harness.bench_line(
        "licence_scan",
        bomb_mb,
        "MB(10000x10000-png)",
        bomb_mb / max(bomb_ref["rss_mb"], bomb_ref["traced_mb"]),
        f"bomb<={BOMB_TARGET_MB:.0f}MB,<={BOMB_TARGET_S}s;24MP<={LARGEST_TARGET_MB:.0f}MB",
        passed,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    if "--file" in sys.argv:
        file = sys.argv[sys.argv.index("--file") + 1]
        path, at = sys.argv[sys.argv.index("--path") + 1], sys.argv[sys.argv.index("--at") + 1]
        print(json.dumps(measure(file, path, at)))
    else:
        sys.exit(main())
