"""Bare DRF endpoints of the same shape as the product's: create = insert the intent row;
retrieve = select it by id; confirm = update it + insert its charge; capture = update both."""

from django.db import transaction
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Charge, Intent, _id


class CreateSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1)
    currency = serializers.CharField(max_length=3)


def present(intent: Intent) -> dict:
    return {
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "currency": intent.currency,
        "status": intent.status,
        "amount_received": intent.amount_received,
    }


class IntentList(APIView):
    def post(self, request):
        params = CreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        intent = Intent.objects.create(id=_id("pi_"), **params.validated_data)
        return Response(present(intent))


class IntentDetail(APIView):
    def get(self, request, pk):
        return Response(present(Intent.objects.get(pk=pk)))


class IntentConfirm(APIView):
    def post(self, request, pk):
        with transaction.atomic():
            intent = Intent.objects.select_for_update().get(pk=pk)
            intent.status = "requires_capture"
            intent.save(update_fields=["status"])
            Charge.objects.create(
                id=_id("ch_"), intent=intent, amount=intent.amount, status="succeeded"
            )
        return Response(present(intent))


class IntentCapture(APIView):
    def post(self, request, pk):
        with transaction.atomic():
            intent = Intent.objects.select_for_update().get(pk=pk)
            intent.status = "succeeded"
            intent.amount_received = intent.amount
            intent.save(update_fields=["status", "amount_received"])
            Charge.objects.filter(intent_id=pk).update(captured=True)
        return Response(present(intent))
