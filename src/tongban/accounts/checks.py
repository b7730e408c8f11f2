"""System checks for identity: what `manage.py check --deploy` and `check --database` report."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def sms_sender_delivers(app_configs, **kwargs):
    """The console sender writes codes to a file instead of phones: fine for the demo, not for a
    real installation (L2 could not be reached, and codes would sit in a file)."""
    from tongban.core import sms

    if settings.EMBEDDED or sms.sender().delivers:
        return []
    return [
        Warning(
            "SMS codes are written to the console outbox, not sent.",
            hint="Set TONGBAN_SMS_SENDER to your SMS gateway's adapter (a tongban.core.sms.SmsSender).",
            id="accounts.W001",
        )
    ]


@register(Tags.database)
def usernames_are_plain(app_configs, **kwargs):
    """Usernames stored before the rules of accounts.usernames (invisible characters, letters of
    other scripts) are reported, not renamed: renaming would lock their owners out."""
    from django.db import connection

    from .models import User
    from .usernames import problems_of_stored

    if User._meta.db_table not in connection.introspection.table_names():
        return []  # `migrate` runs database checks before it creates the table
    odd = []
    for username in User.objects.values_list("username", flat=True).iterator():
        problem = problems_of_stored(username)
        if problem and problem != "not_normalised":
            odd.append(f"{username!a} ({problem})")
    if not odd:
        return []
    return [
        Warning(
            f"{len(odd)} usernames would be refused today: " + ", ".join(odd[:20]),
            hint="Rename these accounts; look-alike usernames let one account pose as another.",
            id="accounts.W002",
        )
    ]
