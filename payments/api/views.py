"""/v1/payment_methods, /v1/customers, /v1/charges. Each view validates input, calls one service
or selector, and serialises the result."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from api.views import StripeAPIView, validated

from .. import presenters, selectors, services
from . import serializers as s

ID_PARAM = OpenApiParameter("id", str, OpenApiParameter.PATH)


def _pick(data: dict, *names: str) -> dict:
    """Only the params that were sent, so a service leaves the others untouched."""
    return {name: data[name] for name in names if name in data}


# --- payment methods -----------------------------------------------------------------------


class PaymentMethodsView(StripeAPIView):
    """Create (also with a publishable key, as Stripe.js does) and list."""

    publishable_methods = frozenset({"POST"})

    def initial(self, request, *args, **kwargs):
        # Only the create is open to publishable keys; decided before the permission check.
        self.allow_publishable = request.method in self.publishable_methods
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="GetPaymentMethods",
        parameters=[s.PaymentMethodListSerializer],
        responses=s.PaymentMethodListSchema,
    )
    def get(self, request):
        params = validated(s.PaymentMethodListSerializer, self.params)
        customer_id = params.get("customer")
        if customer_id:
            customer_id = selectors.customer_get(
                scope=self.caller.scope, customer_id=customer_id, param="customer"
            ).id
        queryset = selectors.payment_method_list(
            scope=self.caller.scope, customer_id=customer_id, type=params.get("type")
        )
        return self.paginated(
            queryset,
            params=params,
            url="/v1/payment_methods",
            present=presenters.payment_method_to_api,
            object_name="payment_method",
        )

    @extend_schema(
        operation_id="PostPaymentMethods",
        request=s.PaymentMethodDataSerializer,
        responses=s.PaymentMethodSchema,
    )
    def post(self, request):
        params = validated(s.PaymentMethodDataSerializer, self.params)
        pm = services.payment_method_create(
            scope=self.caller.scope,
            card=services.raw_card_from_params(params["card"]),
            billing_details=params.get("billing_details"),
            metadata=params.get("metadata"),
        )
        return Response(presenters.payment_method_to_api(pm))


class PaymentMethodDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetPaymentMethodsPaymentMethod",
        parameters=[ID_PARAM, s.RetrieveSerializer],
        responses=s.PaymentMethodSchema,
    )
    def get(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        pm = selectors.payment_method_get(scope=self.caller.scope, payment_method_id=id)
        return Response(presenters.payment_method_to_api(pm))

    @extend_schema(
        operation_id="PostPaymentMethodsPaymentMethod",
        parameters=[ID_PARAM],
        request=s.PaymentMethodUpdateSerializer,
        responses=s.PaymentMethodSchema,
    )
    def post(self, request, id: str):
        params = validated(s.PaymentMethodUpdateSerializer, self.params)
        pm = selectors.payment_method_get(scope=self.caller.scope, payment_method_id=id)
        pm = services.payment_method_update(
            payment_method=pm, **_pick(params, "billing_details", "metadata")
        )
        return Response(presenters.payment_method_to_api(pm))


class PaymentMethodAttachView(StripeAPIView):
    @extend_schema(
        operation_id="PostPaymentMethodsPaymentMethodAttach",
        parameters=[ID_PARAM],
        request=s.PaymentMethodAttachSerializer,
        responses=s.PaymentMethodSchema,
    )
    def post(self, request, id: str):
        params = validated(s.PaymentMethodAttachSerializer, self.params)
        pm = services.payment_method_attach_by_id(
            scope=self.caller.scope, payment_method_id=id, customer_id=params["customer"]
        )
        return Response(presenters.payment_method_to_api(pm))


class PaymentMethodDetachView(StripeAPIView):
    @extend_schema(
        operation_id="PostPaymentMethodsPaymentMethodDetach",
        parameters=[ID_PARAM],
        request=s.PaymentMethodDetachSerializer,
        responses=s.PaymentMethodSchema,
    )
    def post(self, request, id: str):
        validated(s.PaymentMethodDetachSerializer, self.params)
        pm = selectors.payment_method_get(scope=self.caller.scope, payment_method_id=id)
        pm = services.payment_method_detach(payment_method=pm)
        return Response(presenters.payment_method_to_api(pm))


# --- customers -----------------------------------------------------------------------------


class CustomersView(StripeAPIView):
    @extend_schema(
        operation_id="GetCustomers",
        parameters=[s.CustomerListSerializer],
        responses=s.CustomerListSchema,
    )
    def get(self, request):
        params = validated(s.CustomerListSerializer, self.params)
        queryset = selectors.customer_list(scope=self.caller.scope, email=params.get("email"))
        return self.paginated(
            queryset,
            params=params,
            url="/v1/customers",
            present=presenters.customer_to_api,
            object_name="customer",
        )

    @extend_schema(
        operation_id="PostCustomers",
        request=s.CustomerCreateSerializer,
        responses=s.CustomerSchema,
    )
    def post(self, request):
        params = validated(s.CustomerCreateSerializer, self.params)
        customer = services.customer_create(scope=self.caller.scope, **params)
        return Response(presenters.customer_to_api(customer))


class CustomerDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetCustomersCustomer",
        parameters=[ID_PARAM, s.RetrieveSerializer],
        responses=s.CustomerSchema,
    )
    def get(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        customer = selectors.customer_get(scope=self.caller.scope, customer_id=id, param="id")
        return Response(presenters.customer_to_api(customer))

    @extend_schema(
        operation_id="PostCustomersCustomer",
        parameters=[ID_PARAM],
        request=s.CustomerUpdateSerializer,
        responses=s.CustomerSchema,
    )
    def post(self, request, id: str):
        params = validated(s.CustomerUpdateSerializer, self.params)
        customer = selectors.customer_get(scope=self.caller.scope, customer_id=id, param="id")
        customer = services.customer_update(customer=customer, **params)
        return Response(presenters.customer_to_api(customer))

    @extend_schema(
        operation_id="DeleteCustomersCustomer",
        parameters=[ID_PARAM],
        request=None,
        responses={200: s.CustomerDeletedSchema},
    )
    def delete(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        customer = selectors.customer_get(scope=self.caller.scope, customer_id=id, param="id")
        customer = services.customer_delete(customer=customer)
        return Response(presenters.customer_deleted_to_api(customer))


class CustomerPaymentMethodsView(StripeAPIView):
    @extend_schema(
        operation_id="GetCustomersCustomerPaymentMethods",
        parameters=[ID_PARAM, s.CustomerPaymentMethodListSerializer],
        responses=s.PaymentMethodListSchema,
    )
    def get(self, request, id: str):
        params = validated(s.CustomerPaymentMethodListSerializer, self.params)
        customer = selectors.customer_get(scope=self.caller.scope, customer_id=id, param="customer")
        queryset = selectors.payment_method_list(
            scope=self.caller.scope, customer_id=customer.id, type=params.get("type")
        )
        return self.paginated(
            queryset,
            params=params,
            url=f"/v1/customers/{customer.id}/payment_methods",
            present=presenters.payment_method_to_api,
            object_name="payment_method",
        )


# --- charges -------------------------------------------------------------------------------


class ChargesView(StripeAPIView):
    @extend_schema(
        operation_id="GetCharges",
        parameters=[s.ChargeListSerializer],
        responses=s.ChargeListSchema,
    )
    def get(self, request):
        params = validated(s.ChargeListSerializer, self.params)
        queryset = selectors.charge_list(
            scope=self.caller.scope,
            payment_intent_id=params.get("payment_intent"),
            customer_id=params.get("customer"),
        )
        return self.paginated(
            queryset,
            params=params,
            url="/v1/charges",
            present=presenters.charge_to_api,
            object_name="charge",
        )


class ChargeDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetChargesCharge",
        parameters=[ID_PARAM, s.RetrieveSerializer],
        responses=s.ChargeSchema,
    )
    def get(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        charge = selectors.charge_get(scope=self.caller.scope, charge_id=id)
        return Response(presenters.charge_to_api(charge))
