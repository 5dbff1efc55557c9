"""The in-flight markers of charges and refunds become recorded attempts, then go.

A release owed to the processor (`Charge.release_owed_at`) becomes a recorded `release` attempt,
and a refund with a processor call under way (`Refund.inflight_since`) a recorded `refund` (or
`refund_resolve`, once the processor had answered it `pending`) attempt: the reconciler settles
them as it settles any attempt a crash left recorded. A claimed async capture needs nothing: the
capture sweep takes every charge still owed its capture with no attempt under way.
"""

from django.db import migrations

from core.ids import generate_id


def _processor(livemode):
    return "simulated"  # the one processor there was then


def markers_to_attempts(apps, schema_editor):
    Attempt = apps.get_model("payments", "Attempt")
    Charge = apps.get_model("payments", "Charge")
    Refund = apps.get_model("payments", "Refund")
    rows = []
    for charge in Charge.objects.filter(release_owed_at__isnull=False):
        rows.append(
            Attempt(
                id=generate_id("att"),
                account_id=charge.account_id,
                livemode=charge.livemode,
                kind="release",
                target=charge.id,
                payment_intent_id=charge.payment_intent_id,
                charge_id=charge.id,
                processor=_processor(charge.livemode),
                status="recorded",
                claimed_at=charge.release_owed_at,
            )
        )
    for refund in Refund.objects.filter(
        inflight_since__isnull=False, status__in=["pending", "requires_action"]
    ):
        rows.append(
            Attempt(
                id=generate_id("att"),
                account_id=refund.account_id,
                livemode=refund.livemode,
                kind="refund" if refund.resolve_after is None else "refund_resolve",
                target=refund.id,
                payment_intent_id=refund.payment_intent_id,
                charge_id=refund.charge_id,
                refund_id=refund.id,
                processor=_processor(refund.livemode),
                amount=refund.amount,
                currency=refund.currency,
                status="recorded",
                claimed_at=refund.inflight_since,
            )
        )
    Attempt.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0005_attempt_ledger"),
        ("intents", "0009_attempt_ledger"),
    ]

    operations = [
        migrations.RunPython(markers_to_attempts, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='charge',
            name='charge_release_owed_idx',
        ),
        migrations.RemoveField(
            model_name='charge',
            name='capture_claimed_at',
        ),
        migrations.RemoveField(
            model_name='charge',
            name='release_owed_at',
        ),
        migrations.RemoveField(
            model_name='refund',
            name='inflight_since',
        ),
    ]
