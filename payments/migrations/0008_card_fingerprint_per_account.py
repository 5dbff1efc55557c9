"""Card fingerprints become per account (core.crypto.account_card_fingerprint): every stored
one is re-keyed with its account, so a card saved before keeps matching the same card saved
after, in its own account only."""

from django.db import migrations

from core.crypto import account_card_fingerprint


def rekey(apps, schema_editor):
    PaymentMethod = apps.get_model("payments", "PaymentMethod")
    rows = PaymentMethod.objects.exclude(card_fingerprint="").only("id", "account_id", "card_fingerprint")
    for pm in rows.iterator(chunk_size=1000):
        PaymentMethod.objects.filter(id=pm.id).update(
            card_fingerprint=account_card_fingerprint(pm.account_id, pm.card_fingerprint)
        )


class Migration(migrations.Migration):
    dependencies = [("payments", "0007_charge_processor_and_flow")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
