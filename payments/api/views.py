"""/v1/payment_methods, /v1/customers, /v1/charges. Each view validates input, calls one service
or selector, and serialises the result."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api.schema import CARD_DECLINED, path_id
from api.views import StripeAPIView, validated

from .. import presenters, selectors, services
from . import serializers as s

PM_ID = path_id("payment method", "pm_")
CUSTOMER_ID = path_id("customer", "cus_")
CHARGE_ID = path_id("charge", "ch_")


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
        summary="List payment methods",
        description="The payment methods of this account and mode, newest first, one page at a time; optionally of one customer.",
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
        summary="Create a payment method",
        description="Vaults a card: the number is tokenised by the processor and never stored (only the brand, the last 4 digits, the expiry and a fingerprint). Also with a publishable key, as Stripe.js does. A number that fails the Luhn check, a past expiry or a malformed CVC answers 402.",
        request=s.PaymentMethodDataSerializer,
        responses={200: s.PaymentMethodSchema, 402: CARD_DECLINED},
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
        summary="Retrieve a payment method",
        description="The payment method as it is now.",
        parameters=[PM_ID, s.RetrieveSerializer],
        responses=s.PaymentMethodSchema,
    )
    def get(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        pm = selectors.payment_method_get(scope=self.caller.scope, payment_method_id=id)
        return Response(presenters.payment_method_to_api(pm))

    @extend_schema(
        operation_id="PostPaymentMethodsPaymentMethod",
        summary="Update a payment method",
        description="Changes its billing details or metadata; the card itself cannot change.",
        parameters=[PM_ID],
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
        summary="Attach a payment method to a customer",
        description="Attaches the payment method to `customer`, so it can be used again for that customer's payments. A payment method attached to another customer answers 400.",
        parameters=[PM_ID],
        request=s.PaymentMethodAttachSerializer,
        responses=s.PaymentMethodSchema,
    )
    def post(self, request, id: str):
        params = validated(s.PaymentMethodAttachSerializer, self.params)
        pm = selectors.payment_method_get(scope=self.caller.scope, payment_method_id=id)
        customer = selectors.customer_get(
            scope=self.caller.scope, customer_id=params["customer"], param="customer"
        )
        pm = services.payment_method_attach(payment_method=pm, customer=customer)
        return Response(presenters.payment_method_to_api(pm))


class PaymentMethodDetachView(StripeAPIView):
    @extend_schema(
        operation_id="PostPaymentMethodsPaymentMethodDetach",
        summary="Detach a payment method from its customer",
        description="Detaches the payment method from its customer; it can no longer be used for payments.",
        parameters=[PM_ID],
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
        summary="List customers",
        description="The customers of this account and mode, newest first, one page at a time; optionally only those with an email address.",
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
        summary="Create a customer",
        description="Creates a customer; with `payment_method`, that payment method is attached to it.",
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
        summary="Retrieve a customer",
        description="The customer as it is now.",
        parameters=[CUSTOMER_ID, s.RetrieveSerializer],
        responses=s.CustomerSchema,
    )
    def get(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        customer = selectors.customer_get(scope=self.caller.scope, customer_id=id, param="id")
        return Response(presenters.customer_to_api(customer))

    @extend_schema(
        operation_id="PostCustomersCustomer",
        summary="Update a customer",
        description="Changes the parameters given, leaving the others as they are; an empty value unsets a field.",
        parameters=[CUSTOMER_ID],
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
        summary="Delete a customer",
        description="Deletes the customer; its payment methods are detached. Its past payments stay.",
        parameters=[CUSTOMER_ID],
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
        summary="List a customer's payment methods",
        description="The payment methods attached to this customer, newest first, one page at a time.",
        parameters=[CUSTOMER_ID, s.CustomerPaymentMethodListSerializer],
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
        summary="List charges",
        description="The charges (one per payment attempt) of this account and mode, newest first, one page at a time; optionally of one payment intent or customer.",
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
        summary="Retrieve a charge",
        description="One payment attempt: its outcome, the card's details and the amounts captured and refunded.",
        parameters=[CHARGE_ID, s.RetrieveSerializer],
        responses=s.ChargeSchema,
    )
    def get(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        charge = selectors.charge_get(scope=self.caller.scope, charge_id=id)
        return Response(presenters.charge_to_api(charge))
