"""Finish the checkout intents whose PaymentIntent was paid before the checkout intent learned
payment outcomes through its listener (`checkout_intent_learn_payment_outcome`, called in the
transaction that writes the payment). Until then a checkout intent pulled the
outcome afterwards, and a sweep finished what a crash, a 3-D Secure step never returned from or
a worker's resolution left paid but unfinished; that sweep is gone, and a row written before
this change could wait for it forever.

What the `finish` transition writes: status `finished` (from pending, expired or canceled: the
money moved), `finished_at` now, and, for `save_payment_method`, the method that paid when it is
already attached to the checkout's customer. A migration emits no events: these rows get no
`checkout_intent.finished` (nor attaches a method to the customer, which would need its
`payment_method.attached`); the PaymentIntent's own `payment_intent.succeeded` was written when
it was paid."""

from django.db import migrations
from django.utils import timezone

PAID = ("succeeded", "requires_capture")


def finish_paid(apps, schema_editor):
    CheckoutIntent = apps.get_model("checkout_pages", "CheckoutIntent")
    now = timezone.now()
    rows = (
        CheckoutIntent.objects.exclude(status="finished")
        .filter(payment_intent__status__in=PAID)
        .values_list(
            "id",
            "save_payment_method",
            "customer_id",
            "payment_intent__payment_method_id",
            "payment_intent__payment_method__customer_id",
        )
    )
    for ci_id, save, customer_id, pm_id, pm_customer_id in list(rows):
        fields = {"status": "finished", "finished_at": now, "updated": now}
        if save and customer_id and pm_id and pm_customer_id == customer_id:
            fields["payment_method_id"] = pm_id
        # an UPDATE, not save(): the historical model's status is a protected FSM field
        CheckoutIntent.objects.filter(id=ci_id).exclude(status="finished").update(**fields)


class Migration(migrations.Migration):
    dependencies = [
        ("checkout_pages", "0002_checkout_intent_tracked_checkout"),
        ("intents", "0009_attempt_ledger"),
    ]

    operations = [
        migrations.RunPython(finish_paid, migrations.RunPython.noop),
    ]
