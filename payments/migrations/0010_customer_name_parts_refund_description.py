"""A customer's name may be kept as the two parts it was given in (first and last, as
PayMongo's customers have it) and how it prefers to be reached; a refund keeps the merchant's
note on it; a customer knows when it last changed (existing ones: the migration's time).
The new columns are nullable: existing rows read as before."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0009_attempt_kind_verify'),
    ]

    operations = [
        migrations.AddField(
            model_name='customer',
            name='default_device',
            field=models.CharField(blank=True, max_length=8, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='first_name',
            field=models.CharField(blank=True, max_length=256, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='last_name',
            field=models.CharField(blank=True, max_length=256, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='updated',
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='refund',
            name='description',
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
    ]
