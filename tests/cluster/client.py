"""A small HTTP client for the cluster tests and the load benchmark: a browser's session (cookies,
CSRF, the staff second factor) over http.client, with nothing retried behind the caller's back —
every failure is the caller's to count."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import struct
import time
import uuid
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

PASSWORD = "Tongban#2026"  # the demo city's (TONGBAN_DEMO_PASSWORD)
FOOD_LICENCE = "511A0005200004-511602000000-000-115113016823646795-1-00"  # 食品经营许可 (a person decides)
EMPLOYMENT = "512B0066800001-511602000000-000-1151130108778239R-1-00"  # 就业登记 (秒批, issues a licence)
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc(first17: str) -> str:
    """A GB 32100 credit code with its check character."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


# The demo city's restaurant: 张三 is its legal representative and 李四 its agent, so both may apply
# for it (a form naming an enterprise the applicant may not act for is refused).
RESTAURANT = uscc("91511602MA62K3LP0")


def food_licence_form(n: int) -> dict:
    return {
        "enterprise_name": "广安区示例餐饮有限公司",
        "uscc": RESTAURANT,
        "legal_representative_name": "张三",
        "business_address": f"广安区中桥街道建设路{n % 500}号",
        "business_form": "餐饮服务经营者",
        "business_items": "热食类食品制售",
        "food_safety_manager": "王安全",
        "phone": "13800000001",
    }


EMPLOYMENT_FORM = {
    "applicant_name": "张三",
    "applicant_id_number": "11010519491231002X",
    "employment_type": "单位就业",
    "phone": "13800000001",
    "employment_date": "2026-11-02",
}


def sample_pdf(text: str = "sample") -> bytes:
    from tests import samples

    return samples.pdf(text)


def totp(secret_hex: str, step: int | None = None) -> str:
    """RFC 6238, as a phone computes it."""
    counter = int(time.time() // 30) if step is None else step
    digest = hmac.new(bytes.fromhex(secret_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 15
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict
    started: float
    ended: float

    def json(self):
        return json.loads(self.body or b"null")


class Client:
    def __init__(self, base_url: str, *, timeout: float = 30, keep_alive: bool = False):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.keep_alive = keep_alive
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    # --- plumbing ---------------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None or not self.keep_alive:
            self.close()
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None
    ) -> Response:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if not self.keep_alive:
            headers["Connection"] = "close"
        started = time.monotonic()
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            data = raw.read()
        except Exception:
            self.close()
            raise
        ended = time.monotonic()
        for value in raw.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            for key, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        if raw.getheader("Connection", "").lower() == "close":
            self.close()
        return Response(raw.status, data, {k.lower(): v for k, v in raw.getheaders()}, started, ended)

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, headers=kwargs.get("headers"))

    def _csrf(self) -> str:
        if "csrftoken" not in self.cookies:
            self.get("/accounts/login")
        return self.cookies.get("csrftoken", "")

    def post_form(self, path: str, fields: dict) -> Response:
        body = urlencode({**fields, "csrfmiddlewaretoken": self._csrf()}).encode()
        return self.request(
            "POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )

    def api(self, method: str, path: str, payload=None, *, headers: dict | None = None) -> Response:
        headers = {"Accept": "application/json", "X-CSRFToken": self._csrf(), **(headers or {})}
        body = None
        if payload is not None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        return self.request(method, path, body=body, headers=headers)

    def multipart(self, path: str, fields: dict, files: dict, *, headers: dict | None = None) -> Response:
        boundary = uuid.uuid4().hex
        chunks = []
        for name, value in fields.items():
            chunks.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        for name, (filename, content, kind) in files.items():
            chunks.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {kind}\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        chunks.append(f"--{boundary}--\r\n".encode())
        headers = {
            "Accept": "application/json",
            "X-CSRFToken": self._csrf(),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            **(headers or {}),
        }
        return self.request("POST", path, body=b"".join(chunks), headers=headers)

    # --- people -----------------------------------------------------------------------------------

    def login(self, username: str, password: str = PASSWORD, *, totp_secret: str | None = None) -> None:
        response = self.post_form("/accounts/login", {"username": username, "password": password})
        if response.status != 302:
            raise RuntimeError(f"login of {username}: HTTP {response.status}")
        if totp_secret:
            # A second login of the same account within 30 s needs the next time step (no replay).
            step = int(time.time() // 30)
            response = self.post_form("/accounts/mfa/verify", {"otp_token": totp(totp_secret, step)})
            if response.status != 302 or "/accounts/mfa" in response.headers.get("location", ""):
                response = self.post_form("/accounts/mfa/verify", {"otp_token": totp(totp_secret, step + 1)})
            if response.status != 302 or "/accounts/mfa" in response.headers.get("location", ""):
                raise RuntimeError(f"second factor of {username}: HTTP {response.status}")

    def apply_food_licence(self, n: int, key: str) -> Response:
        return self.api(
            "POST",
            "/api/v1/cases",
            {"item_code": FOOD_LICENCE, "data": food_licence_form(n)},
            headers={"Idempotency-Key": key},
        )

    def apply_auto_approved(self, key: str) -> Response:
        files = {
            "files[劳动者身份证件]": ("id.pdf", sample_pdf("id"), "application/pdf"),
            "files[劳动合同或用工证明]": ("contract.pdf", sample_pdf("contract"), "application/pdf"),
        }
        payload = json.dumps({"item_code": EMPLOYMENT, "data": EMPLOYMENT_FORM}, ensure_ascii=False)
        return self.multipart(
            "/api/v1/cases/multipart", {"payload": payload}, files, headers={"Idempotency-Key": key}
        )


def csrf_from(html: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return match[1].decode() if match else ""
