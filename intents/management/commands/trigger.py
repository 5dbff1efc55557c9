"""`python manage.py trigger payment_intent.succeeded`: the Stripe CLI's `stripe trigger` for a
laptop. Makes, for the demo account (or `--account`) in test mode, the objects whose making
emits the event, through the same services the API calls, so every event of the real flow is
written (a succeeded payment also emits `payment_intent.created` and `charge.succeeded`).
Pair it with `manage.py listen --forward-to …`.
"""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts.selectors import account_for_cli
from core.commands import QuickCommand
from core.errors import CardError
from core.scope import Scope
from intents.services import (
    payment_intent_cancel,
    payment_intent_capture,
    payment_intent_create,
)
from payments.services import customer_create, payment_method_attach, payment_method_create

AMOUNT = 2000
CURRENCY = "usd"
DESCRIPTION = "(created by manage.py trigger)"


def _intent(scope: Scope, **params):
    return payment_intent_create(
        scope=scope, amount=AMOUNT, currency=CURRENCY, description=DESCRIPTION, **params
    )


def _paid(scope: Scope) -> list[str]:
    pi = _intent(scope, payment_method="pm_card_visa", confirm=True, capture_method="automatic")
    return [pi.id]


def _declined(scope: Scope) -> list[str]:
    try:
        _intent(scope, payment_method="pm_card_chargeDeclined", confirm=True)
    except CardError as exc:  # the decline is written (events included), then raised
        return [exc.payment_intent["id"]] if exc.payment_intent else []
    raise CommandError("the declining test card was not declined")


def _created(scope: Scope) -> list[str]:
    return [_intent(scope).id]


def _canceled(scope: Scope) -> list[str]:
    pi = _intent(scope)
    return [payment_intent_cancel(scope=scope, payment_intent_id=pi.id).id]


def _authorized(scope: Scope) -> list[str]:
    pi = _intent(scope, payment_method="pm_card_visa", confirm=True, capture_method="manual")
    return [pi.id]


def _captured(scope: Scope) -> list[str]:
    pi = _intent(scope, payment_method="pm_card_visa", confirm=True, capture_method="manual")
    return [payment_intent_capture(scope=scope, payment_intent_id=pi.id).id]


def _customer(scope: Scope) -> list[str]:
    return [customer_create(scope=scope, name="Trigger customer", description=DESCRIPTION).id]


def _attached(scope: Scope) -> list[str]:
    customer = customer_create(scope=scope, name="Trigger customer", description=DESCRIPTION)
    pm = payment_method_create(scope=scope, magic_id="pm_card_visa")
    payment_method_attach(scope=Scope.of(pm), payment_method_id=pm.id, customer_id=customer.id)
    return [customer.id, pm.id]


# event type → what makes it
FIXTURES = {
    "payment_intent.created": _created,
    "payment_intent.succeeded": _paid,
    "payment_intent.payment_failed": _declined,
    "payment_intent.canceled": _canceled,
    "payment_intent.amount_capturable_updated": _authorized,
    "charge.succeeded": _paid,
    "charge.failed": _declined,
    "charge.captured": _captured,
    "customer.created": _customer,
    "payment_method.attached": _attached,
}


class Command(QuickCommand):
    help = "Make test objects whose making emits the given event type (as `stripe trigger`)."

    def add_arguments(self, parser):
        parser.add_argument("event", help="one of: " + ", ".join(FIXTURES))
        parser.add_argument("--account", help="acct_… (default: the demo account)")

    def handle(self, *args, event, account, **options):
        fixture = FIXTURES.get(event)
        if fixture is None:
            raise CommandError(
                f"cannot trigger {event!r}; supported: " + ", ".join(sorted(FIXTURES))
            )
        target = account_for_cli(account)
        if target is None:
            raise CommandError(
                f"no account {account}" if account else "no demo account: run `make run` first"
            )
        self.stdout.write(f"Setting up fixture for: {event}")
        made = fixture(Scope(account_id=target.id, livemode=False))
        self.stdout.write(f"Trigger succeeded! Made {', '.join(made)} for {target.id}.")
