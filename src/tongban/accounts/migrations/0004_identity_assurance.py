"""Identity assurance (实名认证): levels on persons, their history, registration claims and SMS
challenges; usernames unique ignoring case.

Before the case-insensitive constraint goes in, existing usernames that differ only in case are
looked for. Renaming someone's login silently would lock them out, so the migration stops and names
them instead; rename one of each pair (`tongban` admin) and migrate again."""

import uuid

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import tongban.core.fields


def refuse_case_twins(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    seen: dict[str, str] = {}
    twins = []
    for username in User.objects.order_by("id").values_list("username", flat=True):
        key = username.lower()
        if key in seen:
            twins.append(f"{seen[key]} / {username}")
        else:
            seen[key] = username
    if twins:
        raise RuntimeError(
            "Usernames that differ only in case must be renamed before upgrading: " + ", ".join(twins)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_authority_stamp"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="IdentityClaim",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "public_id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, unique=True, verbose_name="public id"
                    ),
                ),
                ("name", models.CharField(max_length=50, verbose_name="name")),
                ("id_number", tongban.core.fields.EncryptedTextField(verbose_name="ID number")),
                ("id_number_index", models.CharField(db_index=True, editable=False, max_length=64)),
                ("phone", tongban.core.fields.EncryptedTextField(blank=True, verbose_name="mobile number")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "waiting for online verification"),
                            ("window", "to be verified at a window"),
                            ("verified", "verified"),
                            ("rejected", "rejected"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "register_match",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="matches the population register"
                    ),
                ),
                ("register_reference", models.CharField(blank=True, max_length=40)),
                ("online_attempts", models.PositiveSmallIntegerField(default=0)),
                ("attempts_since", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="made")),
                ("resolved_at", models.DateTimeField(blank=True, null=True, verbose_name="resolved")),
                ("resolution_note", models.CharField(blank=True, max_length=200, verbose_name="note")),
            ],
            options={
                "verbose_name": "identity claim",
                "verbose_name_plural": "identity claims",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="IdentityVerification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "level",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (0, "not verified"),
                            (1, "L1 · real name checked against the population register"),
                            (2, "L2 · real name and mobile number verified"),
                            (3, "L3 · verified in person or by face check"),
                        ],
                        verbose_name="level",
                    ),
                ),
                (
                    "method",
                    models.CharField(
                        choices=[
                            ("population_register", "population register (公安人口库)"),
                            ("sms", "SMS code to the mobile number"),
                            ("window", "in person at a window"),
                            ("face_check", "face check"),
                            ("seed", "demo data (set by the seed)"),
                        ],
                        max_length=24,
                        verbose_name="method",
                    ),
                ),
                ("evidence", models.CharField(blank=True, max_length=120, verbose_name="evidence")),
                (
                    "verified_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="verified"),
                ),
            ],
            options={
                "verbose_name": "identity verification",
                "verbose_name_plural": "identity verifications",
                "ordering": ["-verified_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="PhoneChallenge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("phone", tongban.core.fields.EncryptedTextField(verbose_name="mobile number")),
                ("code_digest", models.CharField(max_length=64)),
                ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField()),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                ("message_id", models.CharField(blank=True, max_length=80)),
            ],
            options={
                "verbose_name": "phone challenge",
                "verbose_name_plural": "phone challenges",
                "ordering": ["-sent_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="person",
            name="assurance_level",
            field=models.PositiveSmallIntegerField(
                choices=[
                    (0, "not verified"),
                    (1, "L1 · real name checked against the population register"),
                    (2, "L2 · real name and mobile number verified"),
                    (3, "L3 · verified in person or by face check"),
                ],
                default=0,
                verbose_name="identity assurance",
            ),
        ),
        migrations.RunPython(refuse_case_twins, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("username"), name="username_unique_ignoring_case"
            ),
        ),
        migrations.AddField(
            model_name="identityclaim",
            name="person",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="claims",
                to="accounts.person",
            ),
        ),
        migrations.AddField(
            model_name="identityclaim",
            name="resolved_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="identityclaim",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="identity_claims",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="identityverification",
            name="person",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="verifications",
                to="accounts.person",
            ),
        ),
        migrations.AddField(
            model_name="identityverification",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="identityverification",
            name="verified_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="verified by",
            ),
        ),
        migrations.AddField(
            model_name="phonechallenge",
            name="person",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="phone_challenges",
                to="accounts.person",
            ),
        ),
        migrations.AddIndex(
            model_name="identityclaim",
            index=models.Index(fields=["status", "created_at"], name="identity_claim_queue"),
        ),
        migrations.AddIndex(
            model_name="phonechallenge",
            index=models.Index(fields=["person", "sent_at"], name="phone_challenge_recent"),
        ),
    ]
