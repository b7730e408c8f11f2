"""Per-request context (request id, client address) that deep layers such as the audit journal need."""

import contextvars
import logging
import re
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("tongban_request_id", default="-")
_client_ip: contextvars.ContextVar[str] = contextvars.ContextVar("tongban_client_ip", default="")

_VALID_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_request_id(incoming: str | None = None) -> str:
    """Keep a caller's X-Request-ID when it is well formed, so a call can be traced across systems."""
    if incoming and _VALID_INCOMING_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def set_request(request_id: str, client_ip: str = "") -> tuple:
    return _request_id.set(request_id), _client_ip.set(client_ip)


def reset_request(tokens: tuple) -> None:
    _request_id.reset(tokens[0])
    _client_ip.reset(tokens[1])


def request_id() -> str:
    return _request_id.get()


def client_ip() -> str:
    return _client_ip.get()


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True
