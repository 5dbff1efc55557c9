from django.db import migrations


def create_account(apps, schema_editor):
    apps.get_model("baseline", "Account").objects.get_or_create(
        id="acct_baseline", defaults={"name": "baseline"}
    )


class Migration(migrations.Migration):
    """The one account every baseline row belongs to (the product's comes with its key)."""

    dependencies = [("baseline", "0001_initial")]

    operations = [migrations.RunPython(create_account, migrations.RunPython.noop)]
