"""A tiny resource that exercises the shared dialect (parsing, strict params, errors) without
depending on any real resource."""

from django.urls import include, path
from rest_framework.response import Response

from api.serializers import (
    CurrencyField,
    MetadataField,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    StringListField,
)
from api.views import StripeAPIView


class CardSerializer(StrictSerializer):
    number = StringField(required=False)
    exp_month = StrictIntegerField(required=False)


class EchoSerializer(StrictSerializer):
    amount = StrictIntegerField(required=False, min_value=1)
    currency = CurrencyField(required=False)
    confirm = StrictBooleanField(required=False)
    description = StringField(required=False)
    metadata = MetadataField(required=False)
    payment_method_types = StringListField(required=False)
    card = CardSerializer(required=False)
    needed = StringField(required=False)


class EchoView(StripeAPIView):
    def post(self, request):
        serializer = EchoSerializer(data=self.params)
        serializer.is_valid(raise_exception=True)
        return Response({"params": self.params, "validated": _plain(serializer.validated_data)})

    def get(self, request):
        return Response({"params": self.params})


class PublishableEchoView(EchoView):
    allow_publishable = True


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | bool | type(None)) else repr(value)


urlpatterns = [
    path("v1/echo", EchoView.as_view()),
    path("v1/public_echo", PublishableEchoView.as_view()),
    path("", include("config.urls")),
]
