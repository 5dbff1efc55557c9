"""Plain DRF endpoints of the product's shape, writing the product's rows and nothing more:

    create    INSERT the intent, INSERT its event (payment_intent.created)
    retrieve  SELECT the intent
    confirm   lock the intent, INSERT the payment method and the charge (succeeded,
              authorized), UPDATE the intent (requires_capture), INSERT two events
    capture   lock the intent (its charge read in the same statement), UPDATE the charge,
              UPDATE the intent (succeeded), INSERT two events

Each write is one transaction; every answer is the whole intent (every column), built by a
plain loop over the columns.
None of the product's features: no keys, no idempotency, no state machine, no webhook
enqueue, no scoping, no input limits, no processor."""

import hashlib
import secrets

from django.db import models, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Charge, Event, PaymentIntent, PaymentMethod

ACCOUNT_ID = "acct_baseline"  # made by migration 0002
API_VERSION = "2024-06-20"


def _columns(model) -> tuple[tuple[str, bool], ...]:
    return tuple(
        (f.attname, isinstance(f, models.DateTimeField)) for f in model._meta.concrete_fields
    )


_INTENT_COLUMNS = _columns(PaymentIntent)
_CHARGE_COLUMNS = _columns(Charge)


def as_dict(obj, columns) -> dict:
    """Every column of the row, times as Unix seconds: the object's full shape, built the
    cheapest way (the product builds its own with hand-written presenters, not a
    ModelSerializer, which rebuilds its fields on every use)."""
    out = {}
    for name, is_time in columns:
        value = getattr(obj, name)
        out[name] = int(value.timestamp()) if is_time and value is not None else value
    return out


def intent_data(intent: PaymentIntent) -> dict:
    return {"object": "payment_intent", **as_dict(intent, _INTENT_COLUMNS)}


def charge_data(charge: Charge) -> dict:
    return {"object": "charge", **as_dict(charge, _CHARGE_COLUMNS)}


class CreatePaymentIntentSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1)
    currency = serializers.CharField(max_length=3)
    capture_method = serializers.ChoiceField(
        choices=["automatic", "automatic_async", "manual"], default="automatic_async"
    )


class ConfirmSerializer(serializers.Serializer):
    payment_method = serializers.CharField(max_length=80)


def event(type_: str, obj, data: dict) -> Event:
    return Event(
        account_id=obj.account_id,
        livemode=obj.livemode,
        type=type_,
        api_version=API_VERSION,
        data={"object": data},
        object_id=obj.id,
    )


class PaymentIntentList(APIView):
    def post(self, request):
        params = CreatePaymentIntentSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with transaction.atomic():
            intent = PaymentIntent(
                account_id=ACCOUNT_ID,
                livemode=False,
                payment_method_types=["card"],
                **params.validated_data,
            )
            intent.client_secret = f"{intent.id}_secret_{secrets.token_urlsafe(18)}"
            intent.save()
            data = intent_data(intent)
            event("payment_intent.created", intent, data).save()
        return Response(data)


class PaymentIntentDetail(APIView):
    def get(self, request, pk):
        return Response(intent_data(get_object_or_404(PaymentIntent, pk=pk)))


class PaymentIntentConfirm(APIView):
    def post(self, request, pk):
        params = ConfirmSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with transaction.atomic():
            intent = get_object_or_404(PaymentIntent.objects.select_for_update(), pk=pk)
            card = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2031}
            fingerprint = hashlib.sha256(b"4242424242424242").hexdigest()
            method = PaymentMethod.objects.create(
                account_id=intent.account_id,
                livemode=intent.livemode,
                card_brand=card["brand"],
                card_last4=card["last4"],
                card_exp_month=card["exp_month"],
                card_exp_year=card["exp_year"],
                card_fingerprint=fingerprint,
                processor_token="tok_" + secrets.token_urlsafe(18),
                magic_id=params.validated_data["payment_method"],
            )
            charge = Charge.objects.create(
                account_id=intent.account_id,
                livemode=intent.livemode,
                payment_intent=intent,
                payment_method=method,
                amount=intent.amount,
                currency=intent.currency,
                status="succeeded",
                authorized=True,
                payment_method_details={
                    "type": "card",
                    "card": {
                        **card,
                        "funding": "credit",
                        "country": "US",
                        "network": "visa",
                        "fingerprint": fingerprint,
                        "checks": {
                            "cvc_check": None,
                            "address_line1_check": None,
                            "address_postal_code_check": None,
                        },
                        "wallet": None,
                        "three_d_secure": None,
                    },
                },
                outcome={
                    "type": "authorized",
                    "reason": None,
                    "risk_level": "normal",
                    "risk_score": 20,
                    "network_status": "approved_by_network",
                    "seller_message": "Payment complete.",
                },
            )
            intent.payment_method = method
            intent.latest_charge = charge
            intent.status = "requires_capture"
            intent.amount_capturable = intent.amount
            intent.authorized_at = timezone.now()
            intent.save()
            data = intent_data(intent)
            Event.objects.bulk_create(
                [
                    event("charge.succeeded", charge, charge_data(charge)),
                    event("payment_intent.amount_capturable_updated", intent, data),
                ]
            )
        return Response(data)


class PaymentIntentCapture(APIView):
    def post(self, request, pk):
        with transaction.atomic():
            intent = get_object_or_404(
                PaymentIntent.objects.select_for_update(of=("self",)).select_related(
                    "latest_charge"
                ),
                pk=pk,
            )
            charge = intent.latest_charge
            charge.captured = True
            charge.amount_captured = intent.amount_capturable
            charge.authorized = False
            charge.save()
            intent.status = "succeeded"
            intent.amount_received = intent.amount_capturable
            intent.amount_capturable = 0
            intent.save()
            data = intent_data(intent)
            Event.objects.bulk_create(
                [
                    event("charge.captured", charge, charge_data(charge)),
                    event("payment_intent.succeeded", intent, data),
                ]
            )
        return Response(data)
