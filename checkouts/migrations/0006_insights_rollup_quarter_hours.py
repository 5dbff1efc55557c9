"""The insights rollup counts per quarter hour instead of per UTC hour, so that day buckets in
zones whose midnight is not on a UTC hour (Asia/Kolkata, Asia/Kathmandu…) read it too, and
keeps the histogram of seconds to completion (`CheckoutCompletionRollup`) beside it. The
hourly rows cannot be split into quarters: they are emptied and every checkout marked not
counted, in this migration's transaction; the roll-up sweep counts the closed ones again
(`manage.py checkouts_rollup --rebuild` does it at once), and insights read them live meanwhile.
"""

import django.db.models.deletion
from django.db import migrations, models

KEY = ("account", "livemode", "quarter", "currency", "country", "payment_flow", "source", "code")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("checkouts", "0005_tracking_id_from_browser"),
    ]

    operations = [
        migrations.RunSQL(
            "DELETE FROM checkouts_checkoutrollup;"
            " UPDATE checkouts_checkout SET rolled_up = FALSE WHERE rolled_up;",
            reverse_sql=(
                "DELETE FROM checkouts_checkoutrollup;"
                " UPDATE checkouts_checkout SET rolled_up = FALSE WHERE rolled_up;"
            ),
        ),
        migrations.RemoveConstraint(model_name="checkoutrollup", name="chk_rollup_key"),
        migrations.RenameField(model_name="checkoutrollup", old_name="hour", new_name="quarter"),
        migrations.AddConstraint(
            model_name="checkoutrollup",
            constraint=models.UniqueConstraint(fields=KEY, name="chk_rollup_key"),
        ),
        migrations.CreateModel(
            name="CheckoutCompletionRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("livemode", models.BooleanField()),
                ("quarter", models.DateTimeField()),
                ("seconds", models.BigIntegerField()),
                ("completed", models.BigIntegerField(default=0)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.account",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "livemode", "quarter", "seconds"),
                        name="chk_completion_rollup_key",
                    )
                ],
            },
        ),
    ]
