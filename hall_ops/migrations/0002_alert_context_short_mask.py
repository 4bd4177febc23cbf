"""Alert contexts copy the visitor's mask: shorten the copies as
queueing 0006_visitor_birth_year_short_mask shortened the visitors' (going back keeps
the short masks: the longer ones are gone)."""

from django.db import migrations

MASK_KEEP = 2  # queueing.national_id.MASK_KEEP when this migration was written


def shorten_masks(apps, schema_editor):
    Alert = apps.get_model("hall_ops", "Alert")
    changed = []
    for alert in Alert.objects.filter(context__has_key="visitor").only("context").iterator():
        masked = alert.context.get("visitor")
        if isinstance(masked, str) and masked:
            alert.context["visitor"] = "*" * (len(masked) - MASK_KEEP) + masked[-MASK_KEEP:]
            changed.append(alert)
        if len(changed) >= 500:
            Alert.objects.bulk_update(changed, ["context"])
            changed = []
    Alert.objects.bulk_update(changed, ["context"])


class Migration(migrations.Migration):
    dependencies = [
        ("hall_ops", "0001_initial"),
        ("queueing", "0006_visitor_birth_year_short_mask"),
    ]

    operations = [
        migrations.RunPython(shorten_masks, migrations.RunPython.noop, elidable=False),
    ]
