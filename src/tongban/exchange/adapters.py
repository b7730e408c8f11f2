"""Providers behind one interface: `lookup(resource, key)` returns the subject's normalised record or
None. Held resources (a table here, filled by the provider or from a CSV/XLSX drop folder) answer
from encrypted rows found by a blind index; the others ask the provider's system each time.

Which adapter a resource uses, and its settings, is configuration on the resource
(`adapter`, `adapter_config`, `mapping`), never code per provider.
"""

import csv
import io
import json
import urllib.error
import urllib.request
from pathlib import Path

from django.utils import timezone

from tongban.core import crypto

from .models import AdapterKind, KeyKind, Resource
from .normalise import normalise_row

KEY_CONTEXT = "exchange.Record.key"


class AdapterFailure(Exception):
    """The provider's system did not answer properly (down, timed out, nonsense). Never holds data."""


def key_indexes(key: str) -> list[str]:
    """Blind indexes of a normalised key, under the current and any retired master key."""
    return crypto.blind_indexes(key, KEY_CONTEXT)


def key_index(key: str) -> str:
    return crypto.blind_index(key, KEY_CONTEXT)


class Adapter:
    kind = ""

    def lookup(self, resource: Resource, key: str) -> dict | None:
        raise NotImplementedError


class TableAdapter(Adapter):
    """Records held here: one indexed lookup and one decryption."""

    kind = AdapterKind.TABLE

    def lookup(self, resource, key):
        # Duplicates are kept (the quality report shows them); the most recently updated one answers.
        from . import store

        return store.record_data(resource.pk, key_indexes(key))


class FileAdapter(TableAdapter):
    """A drop folder of CSV or XLSX snapshots: each file imported replaces the held records."""

    kind = AdapterKind.FILE

    @staticmethod
    def folder(resource) -> Path:
        return Path(resource.adapter_config.get("folder", ""))

    @staticmethod
    def read(path: Path) -> list[dict]:
        """The rows of a CSV (UTF-8, with or without BOM, or GB18030) or XLSX file as dicts by header."""
        if path.suffix.lower() == ".xlsx":
            from openpyxl import load_workbook

            book = load_workbook(path, read_only=True, data_only=True)
            try:
                rows = book.worksheets[0].iter_rows(values_only=True)
                header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
                return [
                    {h: v for h, v in zip(header, row, strict=False) if h}
                    for row in rows
                    if any(v not in (None, "") for v in row)
                ]
            finally:
                book.close()
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        reader = csv.reader(io.StringIO(text))
        header = [h.strip() for h in next(reader, [])]
        out = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            row = dict(zip(header, cells, strict=False))
            if len(cells) != len(header):
                row["__cells__"] = len(cells)  # reported as malformed: the row does not fit the header
            out.append(row)
        return out

    def pending_files(self, resource) -> list[Path]:
        folder = self.folder(resource)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".xlsx") and p.is_file())


class HttpAdapter(Adapter):
    """Another system's JSON endpoint. The key goes in a POST body (never a URL, which ends up in
    access logs); the answer is mapped and normalised like a file row.

    adapter_config: {"url": "https://…", "key_param": "id_number", "timeout": 2.0,
                     "records_path": "data", "headers": {"X-Api-Key": "…"}}
    """

    kind = AdapterKind.HTTP

    def __init__(self, opener=None):
        self.opener = opener or urllib.request.urlopen

    def lookup(self, resource, key):
        config = resource.adapter_config
        url = config.get("url", "")
        if not url.startswith(("http://", "https://")):
            raise AdapterFailure("the adapter's url must be http(s)")
        body = json.dumps({config.get("key_param", "key"): key}).encode()
        request = urllib.request.Request(  # noqa: S310  (scheme checked above)
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", **config.get("headers", {})},
        )
        try:
            with self.opener(request, timeout=float(config.get("timeout", 2.0))) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise AdapterFailure(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise AdapterFailure(type(exc).__name__) from None
        for part in filter(None, str(config.get("records_path", "")).split(".")):
            payload = payload.get(part) if isinstance(payload, dict) else None
        if payload is None:
            return None
        if not isinstance(payload, dict):
            raise AdapterFailure("the answer is not a JSON object")
        record, problems = normalise_row(payload, resource.mapping, set(resource.field_map()))
        if problems:
            raise AdapterFailure(f"malformed field {problems[0].field}")
        return record


class LicenceAdapter(Adapter):
    """The e-licence library as a resource: which licence types the holder has in force today."""

    kind = AdapterKind.LICENCE

    def lookup(self, resource, key):
        from tongban.accounts.models import ID_NUMBER_CONTEXT
        from tongban.licences.models import Licence, LicenceStatus

        from .normalise import kind_of

        if kind_of(resource.key_kind, key) == KeyKind.ENTERPRISE:
            holders = [key]
        else:
            holders = crypto.blind_indexes(key, ID_NUMBER_CONTEXT)
        today = timezone.localdate()
        rows = list(
            Licence.objects.filter(holder_index__in=holders, status=LicenceStatus.VALID)
            .exclude(valid_until__lt=today)
            .values_list("licence_type__code", "valid_until")
        )
        types = sorted({code for code, _until in rows})
        return {"holder": key, "licence_types": types, "licence_count": len(rows)} if rows else None


ADAPTERS: dict[str, Adapter] = {
    AdapterKind.TABLE: TableAdapter(),
    AdapterKind.FILE: FileAdapter(),
    AdapterKind.HTTP: HttpAdapter(),
    AdapterKind.LICENCE: LicenceAdapter(),
}


def adapter_for(resource: Resource) -> Adapter:
    return ADAPTERS[resource.adapter]
