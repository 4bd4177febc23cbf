"""Visitors keep the birth year instead of the birth date, and a mask of the last two
characters instead of four + four (see queueing.national_id for why).

The raw ID numbers are not stored, so the coarser fields are derived from the finer
ones and the finer ones dropped. Going back cannot restore them: it keeps the short
mask and sets the birth date to 1 January of the birth year.
"""

import datetime as dt

from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Concat, ExtractYear, Right

MASK_KEEP = 2  # queueing.national_id.MASK_KEEP when this migration was written


def coarsen_visitors(apps, schema_editor):
    Visitor = apps.get_model("queueing", "Visitor")
    Visitor.objects.update(
        birth_year=ExtractYear("birth_date"),
        masked_id=Concat(Value("*" * (18 - MASK_KEEP)), Right("masked_id", MASK_KEEP)),
    )


def birth_year_to_date(apps, schema_editor):
    Visitor = apps.get_model("queueing", "Visitor")
    for year in Visitor.objects.values_list("birth_year", flat=True).distinct():
        Visitor.objects.filter(birth_year=year).update(birth_date=dt.date(year, 1, 1))


class Migration(migrations.Migration):
    dependencies = [
        ("queueing", "0005_ticket_hall_status_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="visitor",
            name="birth_year",
            field=models.PositiveSmallIntegerField(null=True, editable=False),
        ),
        migrations.AlterField(
            model_name="visitor",
            name="birth_date",
            field=models.DateField(null=True, verbose_name="birth date"),
        ),
        migrations.RunPython(coarsen_visitors, birth_year_to_date, elidable=False),
        migrations.RemoveField(model_name="visitor", name="birth_date"),
        migrations.AlterField(
            model_name="visitor",
            name="birth_year",
            field=models.PositiveSmallIntegerField(editable=False, verbose_name="birth year"),
        ),
    ]
