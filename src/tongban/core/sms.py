"""Text messages to mobile phones, through whichever sender the installation configures.

Messages are named templates with parameters, the way Chinese SMS gateways work: a gateway only
sends texts from templates it approved beforehand, so the code asks for "identity.code" with
{"code": …, "minutes": …}, and a gateway adapter maps the key to its own template id. Apps
register their templates (with the zh-Hans text, for senders that render locally) when they load;
verification codes come first, case notices (补正, 出件) can follow through the same door.

`TONGBAN_SMS_SENDER` names the sender class. `ConsoleSender` — the demo and test default — sends
nothing: it appends each message to `TONGBAN_SMS_OUTBOX` (JSON lines, mode 0600) and logs it with
the number masked, so a person running the demo (or a test) can read the code there. A real
gateway is a subclass of `SmsSender` in the deployment's own package.
"""

import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from .masking import mask_phone

log = logging.getLogger(__name__)


class SmsFailure(Exception):
    """The sender could not hand the message over. Never carries the number or the text."""


@dataclass(frozen=True)
class Template:
    key: str
    text: str  # zh-Hans, with {name} placeholders
    params: tuple[str, ...]


_templates: dict[str, Template] = {}


def register_template(key: str, text: str, params: tuple[str, ...]) -> Template:
    """Declare a message an app sends; its text and parameter names are fixed in code."""
    template = Template(key, text, tuple(params))
    _templates[key] = template
    return template


def render(key: str, params: dict[str, str]) -> str:
    template = _templates[key]
    return template.text.format(**{name: params[name] for name in template.params})


class SmsSender:
    """One way out to phones. `send` returns the sender's message id or raises SmsFailure."""

    name = "abstract"

    def send(self, phone: str, template: str, params: dict[str, str]) -> str:
        raise NotImplementedError

    @property
    def delivers(self) -> bool:
        """Whether messages reach real phones (the console sender's do not)."""
        return True


class ConsoleSender(SmsSender):
    """Writes messages where the operator can read them instead of sending them: for the demo and
    tests. The outbox holds the full number (it stands in for the phone); the log line does not."""

    name = "console"

    @property
    def delivers(self) -> bool:
        return False

    def send(self, phone: str, template: str, params: dict[str, str]) -> str:
        if template not in _templates:
            raise SmsFailure(f"unknown template {template}")
        text = render(template, params)
        now = timezone.now()
        message_id = f"console-{now:%Y%m%d%H%M%S%f}"
        outbox = settings.TONGBAN_SMS_OUTBOX
        try:
            outbox.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(outbox, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                line = {"id": message_id, "at": now.isoformat(), "to": phone, "template": template}
                handle.write(json.dumps({**line, "params": params, "text": text}, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise SmsFailure(type(exc).__name__) from None
        log.warning("SMS (console sender, not delivered) to %s: %s", mask_phone(phone), text)
        return message_id


@lru_cache(maxsize=4)
def _sender(path: str) -> SmsSender:
    return import_string(path)()


def sender() -> SmsSender:
    return _sender(settings.TONGBAN_SMS_SENDER)


def send(phone: str, template: str, params: dict[str, str]) -> str:
    """Send a registered template to one number; the sender's message id."""
    if template not in _templates:
        raise SmsFailure(f"unknown template {template}")
    return sender().send(phone, template, {k: str(v) for k, v in params.items()})


def outbox(phone: str | None = None, *, last: int = 20) -> list[dict]:
    """What the console sender wrote (newest last), optionally for one number: for `tongban sms
    outbox`, the demo and tests."""
    path = settings.TONGBAN_SMS_OUTBOX
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if phone is None or row.get("to") == phone:
                rows.append(row)
    return rows[-last:]
