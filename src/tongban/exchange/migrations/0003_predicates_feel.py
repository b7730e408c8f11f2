"""Stored verify-only predicates get their rule in FEEL beside their conditions: what is evaluated
since predicates moved onto tongban.rules (exchange.predicates). Reversible: the FEEL text is
dropped again, the conditions were never touched."""

from django.db import migrations


def forwards(apps, schema_editor):
    from tongban.exchange.predicates import to_feel

    Resource = apps.get_model("exchange", "Resource")
    for resource in Resource.objects.exclude(predicates={}):
        changed = False
        for spec in (resource.predicates or {}).values():
            if isinstance(spec, dict) and spec.get("all") and not spec.get("feel"):
                try:
                    spec["feel"] = to_feel(spec["all"])
                except (TypeError, ValueError):
                    continue  # a malformed condition: evaluated from the conditions as before it was saved
                changed = True
        if changed:
            resource.save(update_fields=["predicates"])


def backwards(apps, schema_editor):
    Resource = apps.get_model("exchange", "Resource")
    for resource in Resource.objects.exclude(predicates={}):
        for spec in (resource.predicates or {}).values():
            if isinstance(spec, dict):
                spec.pop("feel", None)
        resource.save(update_fields=["predicates"])


class Migration(migrations.Migration):
    dependencies = [("exchange", "0002_policy_stamp")]

    operations = [migrations.RunPython(forwards, backwards)]
