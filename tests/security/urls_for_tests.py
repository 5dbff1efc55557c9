"""A test-only URLconf: a small StripeAPIView with a counted side effect, so the idempotency
and rate-limit mechanisms can be exercised without any real resource."""

import threading
import time

from django.db import transaction
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response

from api.serializers import StrictIntegerField, StrictSerializer
from api.views import StripeAPIView
from core.errors import CardError, UnexpectedState
from core.scope import Scope
from events.models import Event
from events.services import event_emit

WIDGET_EVENT = "test_widget.created"
# While set, every POST dies mid-flight (SystemExit escapes DRF and Django like a killed worker).
KILL_SWITCH = threading.Event()


class WidgetParams(StrictSerializer):
    amount = StrictIntegerField(min_value=1)
    sleep_ms = StrictIntegerField(required=False, min_value=0, max_value=5000)
    outcome = serializers.ChoiceField(choices=["ok", "decline", "crash", "state"], required=False)


class WidgetView(StripeAPIView):
    allow_publishable = False

    def get(self, request):
        count = Event.objects.filter(type=WIDGET_EVENT, **self.caller.scope.filters).count()
        return Response({"object": "count", "count": count})

    def post(self, request):
        serializer = WidgetParams(data=self.params)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        outcome = params.get("outcome", "ok")
        if KILL_SWITCH.is_set():
            raise SystemExit("killed mid-flight")
        if params.get("sleep_ms"):
            time.sleep(params["sleep_ms"] / 1000)
        if outcome == "state":
            raise UnexpectedState("This widget could not be made because it has a status of done.")
        with transaction.atomic():
            widget = {"id": "wdg_1", "amount": params["amount"], "outcome": outcome}
            [event] = event_emit(
                scope=Scope.of(self.caller), changes=[(WIDGET_EVENT, widget, None)]
            )
        if outcome == "decline":
            raise CardError("Your card was declined.", decline_code="generic_decline")
        if outcome == "crash":
            raise RuntimeError("boom after the side effect")
        return Response({"object": "widget", "event": event.id, "amount": params["amount"]})


class OtherWidgetView(WidgetView):
    pass


urlpatterns = [
    path("v1/test_widgets", WidgetView.as_view()),
    path("v1/test_widgets_other", OtherWidgetView.as_view()),
]
