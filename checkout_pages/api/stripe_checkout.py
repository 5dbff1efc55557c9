"""Stripe Checkout on the wire: /v1/products, /v1/prices, /v1/checkout/sessions and
/v1/payment_links — input serializers, output schemas (documentation only; the output is
`checkout_pages.presenters`) and views. A view validates, calls one service or selector,
presents."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.serializers import (
    CurrencyField,
    EnumField,
    HttpUrlField,
    ListParamField,
    ListParamsSerializer,
    MetadataField,
    PaymentMethodTypesListField,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    list_schema,
)
from api.time_windows import MovingTimestampField
from api.views import StripeAPIView, validated
from core.errors import InvalidRequestError, ResourceMissing

from .. import presenters, selectors, services
from ..models import PaymentLink, Price, Product


def _path_id(kind: str, prefix: str) -> OpenApiParameter:
    return OpenApiParameter(
        "id", str, OpenApiParameter.PATH, description=f"The {kind} ({prefix}…)."
    )


# --- input --------------------------------------------------------------------------------


class ProductDataSerializer(StrictSerializer):
    name = StringField(
        max_length=5000, allow_null=False, help_text="The product's name, shown to the customer."
    )
    description = StringField(required=False, max_length=40000, help_text="Shown with it.")
    metadata = MetadataField(required=False)


class DefaultPriceDataSerializer(StrictSerializer):
    currency = CurrencyField(help_text="Three-letter ISO code, lowercase.")
    unit_amount = StrictIntegerField(
        service_min=0, help_text="In the currency's smallest unit, 0 or more."
    )


class ProductCreateSerializer(StrictSerializer):
    name = StringField(
        max_length=5000, allow_null=False, help_text="The product's name, shown to the customer."
    )
    description = StringField(required=False, max_length=40000, help_text="Shown with it.")
    active = StrictBooleanField(required=False, help_text="Available for sale (default true).")
    metadata = MetadataField(required=False)
    default_price_data = DefaultPriceDataSerializer(
        required=False, help_text="A one-time price made with the product."
    )


class ProductUpdateSerializer(StrictSerializer):
    name = StringField(
        required=False, max_length=5000, allow_null=False, help_text="The product's name."
    )
    description = StringField(required=False, max_length=40000, help_text="Shown with it.")
    active = StrictBooleanField(required=False, help_text="Available for sale.")
    metadata = MetadataField(required=False)


class ProductListSerializer(ListParamsSerializer):
    active = StrictBooleanField(required=False, help_text="Only active (or inactive) products.")


class PriceCreateSerializer(StrictSerializer):
    # the price's product: an existing one, or a new one made from product_data
    required_one_of = (("product", "product_data"),)
    mutually_exclusive = (("product", "product_data"),)

    currency = CurrencyField(help_text="Three-letter ISO code, lowercase.")
    # The only way to give the amount (no `unit_amount_decimal`, no `custom_unit_amount`: a
    # one-time price of a fixed amount).
    unit_amount = StrictIntegerField(
        service_min=0, help_text="In the currency's smallest unit, 0 or more."
    )
    product = StringField(
        required=False, max_length=255, help_text="An existing product (`prod_…`) of yours."
    )
    product_data = ProductDataSerializer(required=False, help_text="A new product for it.")
    active = StrictBooleanField(required=False, help_text="Usable in new sessions (default).")
    nickname = StringField(required=False, max_length=5000, help_text="Not shown to customers.")
    lookup_key = StringField(required=False, max_length=200, help_text="Your own key.")
    metadata = MetadataField(required=False)

    def validate(self, attrs):
        if "recurring" in self.initial_data:
            raise InvalidRequestError(
                "Recurring prices are not available: this service has no billing engine.",
                param="recurring",
            )
        return attrs


class PriceUpdateSerializer(StrictSerializer):
    active = StrictBooleanField(required=False, help_text="Usable in new sessions.")
    nickname = StringField(required=False, max_length=5000, help_text="Not shown to customers.")
    lookup_key = StringField(required=False, max_length=200, help_text="Your own key.")
    metadata = MetadataField(required=False)


class PriceListSerializer(ListParamsSerializer):
    active = StrictBooleanField(required=False, help_text="Only active (or inactive) prices.")
    product = StringField(required=False, max_length=255, help_text="Only this product's.")
    currency = CurrencyField(required=False, help_text="Only in this currency.")


class PriceDataSerializer(StrictSerializer):
    currency = CurrencyField(help_text="Three-letter ISO code, lowercase.")
    unit_amount = StrictIntegerField(
        service_min=0, help_text="In the currency's smallest unit, 0 or more."
    )
    product_data = ProductDataSerializer(help_text="The product line's name and description.")


class LineItemSerializer(StrictSerializer):
    # what the line sells: a stored price or an inline one
    required_one_of = (("price", "price_data"),)
    mutually_exclusive = (("price", "price_data"),)

    price = StringField(
        required=False, max_length=255, help_text="An active one-time `price_…` of yours."
    )
    price_data = PriceDataSerializer(required=False, help_text="An inline price.")
    # required whatever the price's kind (there is no adjustable quantity)
    quantity = StrictIntegerField(
        service_min=1,
        service_max=services.MAX_QUANTITY,
        help_text=f"How many (1 to {services.MAX_QUANTITY}).",
    )


class PaymentIntentDataSerializer(StrictSerializer):
    capture_method = EnumField(
        choices=["automatic", "automatic_async", "manual"],
        required=False,
        help_text="manual only authorises.",
    )
    description = StringField(required=False, max_length=1000, help_text="On the PaymentIntent.")
    metadata = MetadataField(required=False)
    setup_future_usage = EnumField(
        choices=["on_session", "off_session"],
        required=False,
        help_text="Keep the card on the customer.",
    )


class SessionCreateSerializer(StrictSerializer):
    mutually_exclusive = (("customer", "customer_email"),)
    # a page the customer finishes on: success_url (hosted), or return_url (embedded)
    required_one_of = (("success_url", "return_url"),)
    required_with = {"mode=payment": ("line_items",), "return_url": ("ui_mode",)}
    excluded_with = {
        "mode=setup": ("line_items", "payment_intent_data"),
        "ui_mode=hosted": ("return_url",),
        "ui_mode=embedded": ("success_url", "cancel_url"),
    }

    mode = EnumField(
        choices=["payment", "setup"],
        unavailable={"subscription": services.SUBSCRIPTION_UNAVAILABLE},
        help_text="payment or setup (subscription: no billing engine, refused).",
    )
    line_items = ListParamField(
        child=LineItemSerializer(),
        required=False,
        max_length=100,
        service_min_length=1,
        help_text="payment mode: what the customer buys.",
    )
    success_url = HttpUrlField(
        required=False,
        help_text="hosted: where the customer goes once done; `{CHECKOUT_SESSION_ID}` in it "
        "(the one template it may hold, written as is) is replaced by the session's id. A "
        "loopback host only in test mode.",
    )
    cancel_url = HttpUrlField(
        required=False, help_text="hosted: the page's back link. A loopback host only in test mode."
    )
    customer = StringField(required=False, max_length=255, help_text="An existing `cus_…`.")
    customer_email = StringField(required=False, max_length=800, help_text="Prefilled email.")
    customer_creation = EnumField(
        choices=["always", "if_required"], required=False, help_text="Kept as given."
    )
    client_reference_id = StringField(required=False, max_length=200, help_text="Your own id.")
    metadata = MetadataField(required=False)
    expires_at = MovingTimestampField(
        required=False,
        min_seconds=int(services.SESSION_MIN_LIFETIME.total_seconds()),
        max_seconds=int(services.SESSION_MAX_LIFETIME.total_seconds()),
        help_text="Unix time 30 minutes to 24 hours after the request (`x-seconds-from-now`; "
        "default 24 hours); else 400 `parameter_invalid_integer`.",
    )
    payment_intent_data = PaymentIntentDataSerializer(required=False)
    payment_method_types = PaymentMethodTypesListField(required=False, help_text="Only `card`.")
    ui_mode = EnumField(
        choices=["hosted", "embedded"],
        required=False,
        help_text="hosted (default): a page at `url`; embedded: the form in a frame of your "
        "page (checkout.js with `client_secret`), framable by return_url's origin.",
    )
    return_url = HttpUrlField(
        required=False,
        help_text="embedded: where the customer goes once done; `{CHECKOUT_SESSION_ID}` in it "
        "(the one template it may hold, written as is) is replaced by the session's id. A "
        "loopback host only in test mode.",
    )
    currency = CurrencyField(required=False, help_text="setup mode: ignored.")


class SessionUpdateSerializer(StrictSerializer):
    metadata = MetadataField(required=False)


class SessionListSerializer(ListParamsSerializer):
    payment_intent = StringField(required=False, max_length=255, help_text="Only this `pi_…`'s.")
    customer = StringField(required=False, max_length=255, help_text="Only this customer's.")
    status = EnumField(
        choices=["open", "complete", "expired"], required=False, help_text="Only in this status."
    )
    payment_link = StringField(required=False, max_length=255, help_text="Only this link's.")


class LineItemListSerializer(ListParamsSerializer):
    pass


class EmptySerializer(StrictSerializer):
    pass


class RedirectSerializer(StrictSerializer):
    url = HttpUrlField(
        allow_null=False,
        help_text="Where the customer goes once paid; `{CHECKOUT_SESSION_ID}` in it (the one "
        "template it may hold, written as is) is replaced by the session's id. A loopback host "
        "only in test mode.",
    )


class HostedConfirmationSerializer(StrictSerializer):
    """Stripe's confirmation-page options, taken for compatibility: this service shows its own
    page."""

    custom_message = StringField(
        required=False,
        max_length=500,
        help_text="Accepted and ignored: the confirmation page is this service's own.",
    )


class AfterCompletionSerializer(StrictSerializer):
    required_with = {"type=redirect": ("redirect",)}

    type = EnumField(
        choices=["redirect", "hosted_confirmation"], help_text="What follows a payment."
    )
    redirect = RedirectSerializer(required=False)
    hosted_confirmation = HostedConfirmationSerializer(
        required=False,
        help_text="Accepted and ignored: the confirmation page is this service's own (an empty "
        "value, `after_completion[hosted_confirmation]=`, is a hash with no keys).",
    )


class LinkLineItemSerializer(StrictSerializer):
    price = StringField(max_length=255, allow_null=False, help_text="A one-time `price_…`.")
    quantity = StrictIntegerField(
        service_min=1,
        service_max=services.MAX_QUANTITY,
        help_text=f"How many (1 to {services.MAX_QUANTITY}).",
    )


class PaymentLinkCreateSerializer(StrictSerializer):
    line_items = ListParamField(
        child=LinkLineItemSerializer(),
        max_length=20,
        service_min_length=1,
        help_text="What each visitor buys.",
    )
    after_completion = AfterCompletionSerializer(required=False)
    active = StrictBooleanField(required=False, help_text="Usable (default true).")
    metadata = MetadataField(required=False, help_text="Copied to each session.")


class PaymentLinkUpdateSerializer(StrictSerializer):
    active = StrictBooleanField(required=False, help_text="false: the page says it is over.")
    after_completion = AfterCompletionSerializer(required=False)
    metadata = MetadataField(required=False)


class PaymentLinkListSerializer(ListParamsSerializer):
    active = StrictBooleanField(required=False, help_text="Only active (or inactive) links.")


# --- output (documentation only) ------------------------------------------------------------


class ProductSchema(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(default="product")
    active = serializers.BooleanField()
    created = serializers.IntegerField()
    default_price = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    images = serializers.ListField(child=serializers.CharField())
    livemode = serializers.BooleanField()
    metadata = serializers.DictField(child=serializers.CharField())
    name = serializers.CharField()
    type = serializers.CharField()
    updated = serializers.IntegerField()
    url = serializers.CharField(allow_null=True)


class PriceSchema(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(default="price")
    active = serializers.BooleanField()
    billing_scheme = serializers.CharField()
    created = serializers.IntegerField()
    currency = serializers.CharField()
    livemode = serializers.BooleanField()
    lookup_key = serializers.CharField(allow_null=True)
    metadata = serializers.DictField(child=serializers.CharField())
    nickname = serializers.CharField(allow_null=True)
    product = serializers.CharField()
    recurring = serializers.JSONField(allow_null=True)
    tax_behavior = serializers.CharField()
    type = serializers.CharField()
    unit_amount = serializers.IntegerField()
    unit_amount_decimal = serializers.CharField()


class LineItemSchema(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(default="item")
    amount_discount = serializers.IntegerField()
    amount_subtotal = serializers.IntegerField()
    amount_tax = serializers.IntegerField()
    amount_total = serializers.IntegerField()
    currency = serializers.CharField()
    description = serializers.CharField()
    price = serializers.JSONField(help_text="The price (an inline one has product_data).")
    quantity = serializers.IntegerField()


class CheckoutSessionSchema(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(default="checkout.session")
    after_expiration = serializers.JSONField(allow_null=True)
    allow_promotion_codes = serializers.BooleanField(allow_null=True)
    amount_subtotal = serializers.IntegerField(allow_null=True)
    amount_total = serializers.IntegerField(allow_null=True)
    cancel_url = serializers.CharField(allow_null=True)
    client_reference_id = serializers.CharField(allow_null=True)
    client_secret = serializers.CharField(
        allow_null=True, help_text="embedded, while open: give it to checkout.js."
    )
    created = serializers.IntegerField()
    currency = serializers.CharField(allow_null=True)
    customer = serializers.CharField(allow_null=True)
    customer_creation = serializers.CharField(allow_null=True)
    customer_details = serializers.JSONField(allow_null=True)
    customer_email = serializers.CharField(allow_null=True)
    expires_at = serializers.IntegerField()
    livemode = serializers.BooleanField()
    locale = serializers.CharField(allow_null=True)
    metadata = serializers.DictField(child=serializers.CharField())
    mode = serializers.ChoiceField(choices=["payment", "setup"])
    payment_intent = serializers.CharField(allow_null=True)
    payment_link = serializers.CharField(allow_null=True)
    payment_method_types = serializers.ListField(child=serializers.CharField())
    payment_status = serializers.ChoiceField(choices=["paid", "unpaid", "no_payment_required"])
    return_url = serializers.CharField(allow_null=True)
    setup_intent = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["open", "complete", "expired"])
    success_url = serializers.CharField(allow_null=True)
    ui_mode = serializers.CharField()
    url = serializers.CharField(allow_null=True, help_text="The hosted page while open.")


class PaymentLinkSchema(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(default="payment_link")
    active = serializers.BooleanField()
    after_completion = serializers.JSONField()
    currency = serializers.CharField()
    livemode = serializers.BooleanField()
    metadata = serializers.DictField(child=serializers.CharField())
    payment_method_types = serializers.ListField(child=serializers.CharField(), allow_null=True)
    url = serializers.CharField()


ProductListSchema = list_schema("ProductList", ProductSchema)
PriceListSchema = list_schema("PriceList", PriceSchema)
CheckoutSessionListSchema = list_schema("CheckoutSessionList", CheckoutSessionSchema)
LineItemListSchema = list_schema("LineItemList", LineItemSchema)
PaymentLinkListSchema = list_schema("PaymentLinkList", PaymentLinkSchema)


# --- views --------------------------------------------------------------------------------


class ProductCollectionView(StripeAPIView):
    @extend_schema(
        operation_id="PostProducts",
        summary="Create a product",
        description="A product to sell through Checkout; with `default_price_data`, a one-time "
        "price of it too. Emits `product.created`.",
        request=ProductCreateSerializer,
        responses=ProductSchema,
    )
    def post(self, request):
        data = validated(ProductCreateSerializer, self.params)
        product = services.product_create(scope=self.caller.scope, **data)
        return Response(presenters.product_to_api(product))

    @extend_schema(
        operation_id="GetProducts",
        summary="List products",
        description="Your products, newest first, optionally only active (or inactive) ones.",
        parameters=[ProductListSerializer],
        responses=ProductListSchema,
    )
    def get(self, request):
        data = validated(ProductListSerializer, self.params)
        queryset = selectors.product_list(scope=self.caller.scope, active=data.get("active"))
        return self.paginated(
            queryset,
            params=data,
            url="/v1/products",
            present=presenters.product_to_api,
            object_name="product",
        )


class ProductDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetProductsId",
        summary="Retrieve a product",
        description="The product as it is now.",
        parameters=[_path_id("product", "prod_")],
        responses=ProductSchema,
    )
    def get(self, request, id: str):
        validated(EmptySerializer, self.params)
        return Response(
            presenters.product_to_api(selectors.scoped_get(Product, self.caller.scope, id))
        )

    @extend_schema(
        operation_id="PostProductsId",
        summary="Update a product",
        description="Changes the given fields. Emits `product.updated`.",
        parameters=[_path_id("product", "prod_")],
        request=ProductUpdateSerializer,
        responses=ProductSchema,
    )
    def post(self, request, id: str):
        data = validated(ProductUpdateSerializer, self.params)
        product = services.product_update(scope=self.caller.scope, product_id=id, **data)
        return Response(presenters.product_to_api(product))


class PriceCollectionView(StripeAPIView):
    @extend_schema(
        operation_id="PostPrices",
        summary="Create a price",
        description="A one-time price of a product (`product`, or a new one from "
        "`product_data`). Recurring prices are refused: there is no billing engine. Emits "
        "`price.created`.",
        request=PriceCreateSerializer,
        responses=PriceSchema,
    )
    def post(self, request):
        data = validated(PriceCreateSerializer, self.params)
        price = services.price_create(scope=self.caller.scope, **data)
        return Response(presenters.price_to_api(price))

    @extend_schema(
        operation_id="GetPrices",
        summary="List prices",
        description="Your prices, newest first, filtered by `active`, `product`, `currency`.",
        parameters=[PriceListSerializer],
        responses=PriceListSchema,
    )
    def get(self, request):
        data = validated(PriceListSerializer, self.params)
        queryset = selectors.price_list(
            scope=self.caller.scope,
            active=data.get("active"),
            product=data.get("product"),
            currency=data.get("currency"),
        )
        return self.paginated(
            queryset,
            params=data,
            url="/v1/prices",
            present=presenters.price_to_api,
            object_name="price",
        )


class PriceDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetPricesId",
        summary="Retrieve a price",
        description="The price as it is now.",
        parameters=[_path_id("price", "price_")],
        responses=PriceSchema,
    )
    def get(self, request, id: str):
        validated(EmptySerializer, self.params)
        return Response(presenters.price_to_api(selectors.scoped_get(Price, self.caller.scope, id)))

    @extend_schema(
        operation_id="PostPricesId",
        summary="Update a price",
        description="Changes `active`, `nickname`, `lookup_key`, `metadata` (the amount of a "
        "price never changes: make a new one). Emits `price.updated`.",
        parameters=[_path_id("price", "price_")],
        request=PriceUpdateSerializer,
        responses=PriceSchema,
    )
    def post(self, request, id: str):
        data = validated(PriceUpdateSerializer, self.params)
        price = services.price_update(scope=self.caller.scope, price_id=id, **data)
        return Response(presenters.price_to_api(price))


class SessionCollectionView(StripeAPIView):
    @extend_schema(
        operation_id="PostCheckoutSessions",
        summary="Create a Checkout Session",
        description="A hosted page (`url`) where the customer pays the line items (`mode: "
        "payment`) or saves a card (`mode: setup`). It runs on a checkout intent: the same "
        "page, 3-D Secure, expiry and protections. Emits `checkout.session.completed` once "
        "paid (or the card saved) and `checkout.session.expired` when it expires.",
        request=SessionCreateSerializer,
        responses=CheckoutSessionSchema,
    )
    def post(self, request):
        data = validated(SessionCreateSerializer, self.params)
        session = services.checkout_session_create(scope=self.caller.scope, **data)
        return Response(services.session_to_api(session))

    @extend_schema(
        operation_id="GetCheckoutSessions",
        summary="List Checkout Sessions",
        description="Newest first, filtered by `payment_intent`, `customer`, `status`, "
        "`payment_link`, `created`.",
        parameters=[SessionListSerializer],
        responses=CheckoutSessionListSchema,
    )
    def get(self, request):
        data = validated(SessionListSerializer, self.params)
        queryset = selectors.checkout_session_list(
            scope=self.caller.scope,
            payment_intent=data.get("payment_intent"),
            customer=data.get("customer"),
            status=data.get("status"),
            payment_link=data.get("payment_link"),
        )
        return self.paginated(
            queryset,
            params=data,
            url="/v1/checkout/sessions",
            present=services.session_to_api,
            object_name="checkout.session",
        )


class SessionDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetCheckoutSessionsSession",
        summary="Retrieve a Checkout Session",
        description="The session as it is now (`url` while open).",
        parameters=[_path_id("Checkout Session", "cs_")],
        responses=CheckoutSessionSchema,
    )
    def get(self, request, id: str):
        validated(EmptySerializer, self.params)
        session = selectors.checkout_session_get(scope=self.caller.scope, session_id=id)
        return Response(services.session_to_api(session))

    @extend_schema(
        operation_id="PostCheckoutSessionsSession",
        summary="Update a Checkout Session",
        description="Changes its `metadata`.",
        parameters=[_path_id("Checkout Session", "cs_")],
        request=SessionUpdateSerializer,
        responses=CheckoutSessionSchema,
    )
    def post(self, request, id: str):
        data = validated(SessionUpdateSerializer, self.params)
        session = services.checkout_session_update(scope=self.caller.scope, session_id=id, **data)
        return Response(services.session_to_api(session))


class SessionExpireView(StripeAPIView):
    @extend_schema(
        operation_id="PostCheckoutSessionsSessionExpire",
        summary="Expire a Checkout Session",
        description="An open session expires now: its page can take no payment. Refused for a "
        "session not open, or while a payment is under way. Emits `checkout.session.expired`.",
        parameters=[_path_id("Checkout Session", "cs_")],
        request=EmptySerializer,
        responses=CheckoutSessionSchema,
    )
    def post(self, request, id: str):
        validated(EmptySerializer, self.params)
        session = services.checkout_session_expire(scope=self.caller.scope, session_id=id)
        return Response(services.session_to_api(session))


class SessionLineItemsView(StripeAPIView):
    @extend_schema(
        operation_id="GetCheckoutSessionsSessionLineItems",
        summary="A Checkout Session's line items",
        description="What the customer buys, in order.",
        parameters=[_path_id("Checkout Session", "cs_"), LineItemListSerializer],
        responses=LineItemListSchema,
    )
    def get(self, request, id: str):
        data = validated(LineItemListSerializer, self.params)
        session = selectors.checkout_session_get(scope=self.caller.scope, session_id=id)
        items = [presenters.line_item_to_api(item) for item in session.line_items]
        start = 0
        if data.get("starting_after"):
            ids = [item["id"] for item in items]
            if data["starting_after"] not in ids:
                raise ResourceMissing("line_item", data["starting_after"], param="starting_after")
            start = ids.index(data["starting_after"]) + 1
        limit = data.get("limit") or 10
        page = items[start : start + limit]
        return Response(
            {
                "object": "list",
                "url": f"/v1/checkout/sessions/{session.id}/line_items",
                "has_more": start + limit < len(items),
                "data": page,
            }
        )


def _link_to_api(link: PaymentLink) -> dict:
    return presenters.payment_link_to_api(link, url=services.payment_link_url(link))


class PaymentLinkCollectionView(StripeAPIView):
    @extend_schema(
        operation_id="PostPaymentLinks",
        summary="Create a Payment Link",
        description="A reusable `url`: each visit starts a new Checkout Session of these line "
        "items. Emits `payment_link.created`.",
        request=PaymentLinkCreateSerializer,
        responses=PaymentLinkSchema,
    )
    def post(self, request):
        data = validated(PaymentLinkCreateSerializer, self.params)
        link = services.payment_link_create(scope=self.caller.scope, **data)
        return Response(_link_to_api(link))

    @extend_schema(
        operation_id="GetPaymentLinks",
        summary="List Payment Links",
        description="Newest first, optionally only active (or inactive) ones.",
        parameters=[PaymentLinkListSerializer],
        responses=PaymentLinkListSchema,
    )
    def get(self, request):
        data = validated(PaymentLinkListSerializer, self.params)
        queryset = selectors.payment_link_list(scope=self.caller.scope, active=data.get("active"))
        return self.paginated(
            queryset,
            params=data,
            url="/v1/payment_links",
            present=_link_to_api,
            object_name="payment_link",
        )


class PaymentLinkDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetPaymentLinksPaymentLink",
        summary="Retrieve a Payment Link",
        description="The link as it is now.",
        parameters=[_path_id("Payment Link", "plink_")],
        responses=PaymentLinkSchema,
    )
    def get(self, request, id: str):
        validated(EmptySerializer, self.params)
        return Response(_link_to_api(selectors.scoped_get(PaymentLink, self.caller.scope, id)))

    @extend_schema(
        operation_id="PostPaymentLinksPaymentLink",
        summary="Update a Payment Link",
        description="`active: false` turns it off (its page says it is no longer available). "
        "Emits `payment_link.updated`.",
        parameters=[_path_id("Payment Link", "plink_")],
        request=PaymentLinkUpdateSerializer,
        responses=PaymentLinkSchema,
    )
    def post(self, request, id: str):
        data = validated(PaymentLinkUpdateSerializer, self.params)
        link = services.payment_link_update(scope=self.caller.scope, payment_link_id=id, **data)
        return Response(_link_to_api(link))


class PaymentLinkLineItemsView(StripeAPIView):
    @extend_schema(
        operation_id="GetPaymentLinksPaymentLinkLineItems",
        summary="A Payment Link's line items",
        description="What each visitor buys.",
        parameters=[_path_id("Payment Link", "plink_"), LineItemListSerializer],
        responses=LineItemListSchema,
    )
    def get(self, request, id: str):
        data = validated(LineItemListSerializer, self.params)
        link = selectors.scoped_get(PaymentLink, self.caller.scope, id)
        lines = services.priced_line_items_of_link(link)
        limit = data.get("limit") or 10
        return Response(
            {
                "object": "list",
                "url": f"/v1/payment_links/{link.id}/line_items",
                "has_more": len(lines) > limit,
                "data": [presenters.line_item_to_api(item) for item in lines[:limit]],
            }
        )
