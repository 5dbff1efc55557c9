"""The /v1/setup_intents endpoints (Stripe's SetupIntent): input serializers, output schema and
views. A view validates, calls one service or selector, presents."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.errors import SecretKeyRequired
from api.serializers import (
    EnumField,
    HttpUrlField,
    ListParamsSerializer,
    MetadataField,
    PaymentMethodTypesListField,
    StrictBooleanField,
    StrictSerializer,
    StringField,
    list_schema,
)
from api.views import StripeAPIView, validated
from core.errors import ParameterMissing, ResourceMissing
from core.selectors import first_or_missing

from .. import services
from ..models import SetupIntent, SetupStatus
from ..presenters import setup_intent_to_api

LIST_URL = "/v1/setup_intents"
ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="The SetupIntent (seti_…).")
CANCELLATION_REASONS = ("abandoned", "requested_by_customer", "duplicate")


class SetupIntentCreateSerializer(StrictSerializer):
    # a new SetupIntent has no payment method but the one given
    required_with = {"confirm=true": ("payment_method",)}

    customer = StringField(
        required=False, max_length=255, help_text="The customer (`cus_…`) to save the card to."
    )
    payment_method = StringField(
        required=False, max_length=255, help_text="A `pm_…` (or a test id such as pm_card_visa)."
    )
    confirm = StrictBooleanField(required=False, help_text="Confirm at once.")
    usage = EnumField(
        choices=["off_session", "on_session"],
        required=False,
        help_text="How the card will be used later (default off_session).",
    )
    description = StringField(required=False, max_length=1000, help_text="Your description.")
    metadata = MetadataField(required=False)
    payment_method_types = PaymentMethodTypesListField(required=False, help_text="Only `card`.")
    return_url = HttpUrlField(required=False, help_text="Where 3-D Secure comes back to.")


class SetupIntentUpdateSerializer(StrictSerializer):
    customer = StringField(required=False, max_length=255, help_text="A `cus_…`, once.")
    payment_method = StringField(required=False, max_length=255, help_text="A `pm_…`.")
    description = StringField(required=False, max_length=1000, help_text="Your description.")
    metadata = MetadataField(required=False)


class SetupIntentConfirmSerializer(StrictSerializer):
    payment_method = StringField(required=False, max_length=255, help_text="A `pm_…`.")
    return_url = HttpUrlField(required=False, help_text="Where 3-D Secure comes back to.")
    client_secret = StringField(
        required=False, max_length=255, help_text="Required with a publishable key."
    )


class SetupIntentCancelSerializer(StrictSerializer):
    cancellation_reason = EnumField(
        choices=list(CANCELLATION_REASONS), required=False, help_text="Why it was canceled."
    )


class SetupIntentRetrieveSerializer(StrictSerializer):
    client_secret = StringField(
        required=False, max_length=255, help_text="Required with a publishable key."
    )


class SetupIntentListSerializer(ListParamsSerializer):
    customer = StringField(required=False, max_length=255, help_text="Only this customer's.")
    payment_method = StringField(
        required=False, max_length=255, help_text="Only those with this payment method."
    )


class SetupIntentSchema(serializers.Serializer):
    """For the OpenAPI schema only; responses are built by `setup_intent_to_api`."""

    id = serializers.CharField()
    object = serializers.CharField(default="setup_intent")
    application = serializers.CharField(allow_null=True)
    automatic_payment_methods = serializers.JSONField(allow_null=True)
    cancellation_reason = serializers.CharField(allow_null=True)
    client_secret = serializers.CharField()
    created = serializers.IntegerField()
    customer = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    last_setup_error = serializers.JSONField(allow_null=True)
    latest_attempt = serializers.CharField(allow_null=True)
    livemode = serializers.BooleanField()
    mandate = serializers.CharField(allow_null=True)
    metadata = serializers.DictField(child=serializers.CharField())
    next_action = serializers.JSONField(allow_null=True)
    on_behalf_of = serializers.CharField(allow_null=True)
    payment_method = serializers.CharField(allow_null=True)
    payment_method_types = serializers.ListField(child=serializers.CharField())
    single_use_mandate = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=[s.value for s in SetupStatus])
    usage = serializers.CharField()


SetupIntentListSchema = list_schema("SetupIntentList", SetupIntentSchema)


def _get(scope, setup_intent_id: str) -> SetupIntent:
    return first_or_missing(
        SetupIntent.objects.filter(**scope.filters),
        object_id=setup_intent_id,
        object_name="setup_intent",
    )


class _SetupIntentView(StripeAPIView):
    def reach(self, id: str, secret: str | None) -> SetupIntent:
        """The SetupIntent in scope; with a publishable key, only with its client secret (a
        wrong one is a 404, as for an id that does not exist)."""
        if self.caller.is_secret:
            return _get(self.caller.scope, id)
        if not secret:
            raise ParameterMissing(
                "client_secret",
                "Missing required param: client_secret. A publishable key can only reach a "
                "SetupIntent together with its client_secret.",
            )
        si = SetupIntent.objects.filter(id=id, **self.caller.scope.filters).first()
        if si is None or not services.setup_intent_client_secret_matches(si, secret):
            raise ResourceMissing("setup_intent", id)
        return si

    def present(self, si: SetupIntent) -> dict:
        return setup_intent_to_api(si, publishable=not self.caller.is_secret)


class SetupIntentCollectionView(_SetupIntentView):
    @extend_schema(
        operation_id="PostSetupIntents",
        summary="Create a SetupIntent",
        description="Starts saving a card to a customer without charging it. With `confirm`, "
        "it is confirmed at once. Emits `setup_intent.created`.",
        request=SetupIntentCreateSerializer,
        responses=SetupIntentSchema,
    )
    def post(self, request):
        data = validated(SetupIntentCreateSerializer, self.params)
        si = services.setup_intent_create(scope=self.caller.scope, **data)
        return Response(self.present(si))

    @extend_schema(
        operation_id="GetSetupIntents",
        summary="List SetupIntents",
        description="Your SetupIntents, newest first, filtered by `customer`, `payment_method` "
        "and `created`.",
        parameters=[SetupIntentListSerializer],
        responses=SetupIntentListSchema,
    )
    def get(self, request):
        data = validated(SetupIntentListSerializer, self.params)
        queryset = SetupIntent.objects.filter(**self.caller.scope.filters)
        if data.get("customer"):
            queryset = queryset.filter(customer_id=data["customer"])
        if data.get("payment_method"):
            queryset = queryset.filter(payment_method_id=data["payment_method"])
        return self.paginated(
            queryset, params=data, url=LIST_URL, present=self.present, object_name="setup_intent"
        )


class SetupIntentDetailView(_SetupIntentView):
    allow_publishable = True

    @extend_schema(
        operation_id="GetSetupIntentsIntent",
        summary="Retrieve a SetupIntent",
        description="With a publishable key, only with its `client_secret`, and only the "
        "fields a browser may see.",
        parameters=[ID, SetupIntentRetrieveSerializer],
        responses=SetupIntentSchema,
    )
    def get(self, request, id: str):
        data = validated(SetupIntentRetrieveSerializer, self.params)
        return Response(self.present(self.reach(id, data.get("client_secret"))))

    @extend_schema(
        operation_id="PostSetupIntentsIntent",
        summary="Update a SetupIntent",
        description="Changes the given fields of a SetupIntent not yet succeeded or canceled. "
        "Emits `setup_intent.updated` when something changed.",
        parameters=[ID],
        request=SetupIntentUpdateSerializer,
        responses=SetupIntentSchema,
    )
    def post(self, request, id: str):
        if not self.caller.is_secret:
            raise SecretKeyRequired(
                "This API call cannot be made with a publishable API key. Please use a secret "
                "API key."
            )
        data = validated(SetupIntentUpdateSerializer, self.params)
        si = services.setup_intent_update(scope=self.caller.scope, setup_intent_id=id, **data)
        return Response(self.present(si))


class SetupIntentConfirmView(_SetupIntentView):
    allow_publishable = True

    @extend_schema(
        operation_id="PostSetupIntentsIntentConfirm",
        summary="Confirm a SetupIntent",
        description="Saves its payment method (or the one given) to its customer: "
        "`succeeded` and `setup_intent.succeeded`; a method saved to another customer fails "
        "the setup (`setup_intent.setup_failed`, `last_setup_error`). A publishable key needs "
        "the `client_secret`.",
        parameters=[ID],
        request=SetupIntentConfirmSerializer,
        responses=SetupIntentSchema,
    )
    def post(self, request, id: str):
        data = validated(SetupIntentConfirmSerializer, self.params)
        si = self.reach(id, data.pop("client_secret", None))
        si = services.setup_intent_confirm(scope=self.caller.scope, setup_intent_id=si.id, **data)
        return Response(self.present(si))


class SetupIntentCancelView(_SetupIntentView):
    @extend_schema(
        operation_id="PostSetupIntentsIntentCancel",
        summary="Cancel a SetupIntent",
        description="Cancels a SetupIntent not yet succeeded. Emits `setup_intent.canceled`.",
        parameters=[ID],
        request=SetupIntentCancelSerializer,
        responses=SetupIntentSchema,
    )
    def post(self, request, id: str):
        data = validated(SetupIntentCancelSerializer, self.params)
        si = services.setup_intent_cancel(scope=self.caller.scope, setup_intent_id=id, **data)
        return Response(self.present(si))
