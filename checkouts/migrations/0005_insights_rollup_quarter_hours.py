"""The insights rollup counts per quarter hour instead of per UTC hour, so that day buckets in
zones whose midnight is not on a UTC hour (Asia/Kolkata, Asia/Kathmandu…) read it too. The
hourly rows cannot be split into quarters: they are emptied and every checkout marked not
counted, in this migration's transaction; the roll-up sweep counts the closed ones again
(`manage.py checkouts_rollup --rebuild` does it at once), and insights read them live meanwhile.
"""

from django.db import migrations, models

KEY = ("account", "livemode", "quarter", "currency", "country", "payment_flow", "source", "code")


class Migration(migrations.Migration):
    dependencies = [
        ("checkouts", "0004_insights_rollup"),
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
    ]
