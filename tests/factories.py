"""factory_boy factories for rows a test needs but does not test the making of.

A test about an API call makes its objects through the API; a test about a presenter, a sweep
or a console page makes them here. Every factory builds a row of one account and mode: pass
`account=` (and `livemode=`) to put several rows in the same scope.
"""

from __future__ import annotations

from datetime import UTC, datetime

import factory
from django.conf import settings
from django.utils import timezone

from accounts.models import Account
from checkouts.models import Checkout
from events.models import DeliveryAttempt, Event, WebhookEndpoint
from intents.models import PaymentIntent
from payments.models import Attempt, Charge, Customer, PaymentMethod, Refund
from routing.models import PaymentFlow, ProcessorConnection

FUTURE_YEAR = datetime.now(UTC).year + 3


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Merchant {n}")


class _Scoped(factory.django.DjangoModelFactory):
    account = factory.SubFactory(AccountFactory)
    livemode = False


def _in_the_same_scope(factory_class: type[_Scoped]) -> factory.SubFactory:
    """A related row in the account and mode of the row being built."""
    return factory.SubFactory(
        factory_class,
        account=factory.SelfAttribute("..account"),
        livemode=factory.SelfAttribute("..livemode"),
    )


class CustomerFactory(_Scoped):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = "Jenny Rosen"


class PaymentMethodFactory(_Scoped):
    """A card as the vault keeps it: never a number or CVC, only what may be stored."""

    class Meta:
        model = PaymentMethod

    card_brand = "visa"
    card_last4 = "4242"
    card_exp_month = 12
    card_exp_year = FUTURE_YEAR
    card_fingerprint = factory.Sequence(lambda n: f"fp{n:014d}")
    processor_token = factory.Sequence(lambda n: f"tok_factory_{n}")


class PaymentIntentFactory(_Scoped):
    class Meta:
        model = PaymentIntent

    id = factory.Sequence(lambda n: f"pi_factory{n:014d}")
    amount = 2000
    currency = "usd"
    payment_method_types = factory.LazyFunction(lambda: ["card"])
    client_secret = factory.LazyAttribute(lambda pi: f"{pi.id}_secret_factory")


class ChargeFactory(_Scoped):
    class Meta:
        model = Charge

    payment_intent = _in_the_same_scope(PaymentIntentFactory)
    payment_method = _in_the_same_scope(PaymentMethodFactory)
    amount = factory.SelfAttribute("payment_intent.amount")
    currency = factory.SelfAttribute("payment_intent.currency")
    status = Charge.Status.SUCCEEDED


class RefundFactory(_Scoped):
    """A refund row on a charge of the same scope (its money not booked on the charge: a test
    that needs the charge's amounts right makes the refund through the API)."""

    class Meta:
        model = Refund

    charge = _in_the_same_scope(ChargeFactory)
    payment_intent = factory.SelfAttribute("charge.payment_intent")
    amount = 500
    currency = factory.SelfAttribute("charge.currency")


class WebhookEndpointFactory(_Scoped):
    class Meta:
        model = WebhookEndpoint

    url = factory.Sequence(lambda n: f"https://hooks.example.com/{n}")
    enabled_events = factory.LazyFunction(lambda: ["*"])
    api_version = settings.API_VERSION
    secret = factory.Sequence(lambda n: f"whsec_factory{n:020d}")


class EventFactory(_Scoped):
    class Meta:
        model = Event

    type = "customer.created"
    api_version = settings.API_VERSION
    object_id = factory.Sequence(lambda n: f"cus_factory{n}")
    data = factory.LazyAttribute(lambda e: {"object": {"id": e.object_id, "object": "customer"}})


class DeliveryAttemptFactory(_Scoped):
    """An attempt row; its delivery is made alongside for the event and endpoint given."""

    class Meta:
        model = DeliveryAttempt

    event = _in_the_same_scope(EventFactory)
    endpoint = _in_the_same_scope(WebhookEndpointFactory)
    delivery = factory.LazyAttribute(
        lambda a: a.event.deliveries.get_or_create(endpoint=a.endpoint)[0]
    )
    event_type = factory.SelfAttribute("event.type")
    http_status = 200
    succeeded = True
    latency_ms = 12


class CheckoutFactory(_Scoped):
    """A tracked checkout at `intent`; pass the funnel columns a test needs."""

    class Meta:
        model = Checkout

    tracking_id = factory.Sequence(lambda n: f"order_{n}")
    client_secret = factory.Sequence(lambda n: f"chk_factory{n}_secret_x")
    amount = 2000
    currency = "usd"
    steps = factory.LazyFunction(dict)


class ProcessorConnectionFactory(_Scoped):
    """A simulated processor connection (behaving normally unless told)."""

    class Meta:
        model = ProcessorConnection

    kind = "simulated"
    name = factory.Sequence(lambda n: f"Processor {n}")


class PaymentFlowFactory(_Scoped):
    """A priority flow over the connections given as `routing` (none unless told)."""

    class Meta:
        model = PaymentFlow

    name = factory.Sequence(lambda n: f"Flow {n}")
    routing = factory.LazyFunction(lambda: {"type": "priority", "processors": []})
    retry = factory.LazyFunction(lambda: {"max_attempts": 1, "on": []})


class AttemptFactory(_Scoped):
    """A settled authorisation attempt as the ledger keeps it (no intent unless given): pass
    `processor`, `outcome`, `latency_ms`, `amount`, `currency`, `created`."""

    class Meta:
        model = Attempt

    kind = "authorize"
    target = factory.Sequence(lambda n: f"pi_factory_target{n:08d}")
    processor = "simulated"
    outcome = "succeeded"
    latency_ms = 100
    amount = 2000
    currency = "usd"
    status = "applied"
    claimed_at = factory.LazyFunction(timezone.now)
