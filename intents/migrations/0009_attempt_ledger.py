"""The intent's in-flight marker becomes a recorded attempt in the ledger, then goes.

An intent with a processor call under way (`inflight`, `inflight_since`, `last_attempt_id`)
gets a `recorded` attempt with the same id (the processor's idempotency key), so the
reconciler settles it as it settles any attempt a crash left recorded. `last_attempt_refusal`
goes with it: a refusal is now the answer stored on its attempt.
"""

from django.db import migrations

from core.ids import generate_id

KINDS = {
    "confirm": "authorize",
    "authenticate": "authenticate",
    "capture": "capture",
    "cancel": "void",
    "increment": "increment",
    "resolve": "resolve_async",
}


def markers_to_attempts(apps, schema_editor):
    Attempt = apps.get_model("payments", "Attempt")
    PaymentIntent = apps.get_model("intents", "PaymentIntent")
    rows = [
        Attempt(
            id=pi.last_attempt_id or generate_id("att"),
            account_id=pi.account_id,
            livemode=pi.livemode,
            kind=KINDS[pi.inflight],
            target=pi.id,
            payment_intent_id=pi.id,
            charge_id=pi.latest_charge_id,
            processor="simulated",  # the one processor there was then
            status="recorded",
            claimed_at=pi.inflight_since or pi.updated,
        )
        for pi in PaymentIntent.objects.filter(inflight__isnull=False)
    ]
    Attempt.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ('intents', '0008_lean_indexes'),
        ('payments', '0005_attempt_ledger'),
    ]

    operations = [
        migrations.RunPython(markers_to_attempts, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='paymentintent',
            name='pi_inflight_idx',
        ),
        migrations.RemoveField(
            model_name='paymentintent',
            name='inflight',
        ),
        migrations.RemoveField(
            model_name='paymentintent',
            name='inflight_since',
        ),
        migrations.RemoveField(
            model_name='paymentintent',
            name='last_attempt_id',
        ),
        migrations.RemoveField(
            model_name='paymentintent',
            name='last_attempt_refusal',
        ),
    ]
