from django.urls import path

from . import views

urlpatterns = [
    path("payment_methods", views.PaymentMethodsView.as_view(), name="payment_methods"),
    path(
        "payment_methods/<str:id>",
        views.PaymentMethodDetailView.as_view(),
        name="payment_method_detail",
    ),
    path(
        "payment_methods/<str:id>/attach",
        views.PaymentMethodAttachView.as_view(),
        name="payment_method_attach",
    ),
    path(
        "payment_methods/<str:id>/detach",
        views.PaymentMethodDetachView.as_view(),
        name="payment_method_detach",
    ),
    path("customers", views.CustomersView.as_view(), name="customers"),
    # search before <str:id>, or "search" would be taken for an id
    path("customers/search", views.CustomerSearchView.as_view(), name="customer_search"),
    path("customers/<str:id>", views.CustomerDetailView.as_view(), name="customer_detail"),
    path(
        "customers/<str:id>/payment_methods",
        views.CustomerPaymentMethodsView.as_view(),
        name="customer_payment_methods",
    ),
    path("charges", views.ChargesView.as_view(), name="charges"),
    path("charges/search", views.ChargeSearchView.as_view(), name="charge_search"),
    path("charges/<str:id>", views.ChargeDetailView.as_view(), name="charge_detail"),
    path("charges/<str:id>/refunds", views.ChargeRefundsView.as_view(), name="charge_refunds"),
    path("refunds", views.RefundsView.as_view(), name="refunds"),
    path("refunds/<str:id>", views.RefundDetailView.as_view(), name="refund_detail"),
    path("refunds/<str:id>/cancel", views.RefundCancelView.as_view(), name="refund_cancel"),
    path(
        "payment_flows/<str:id>/evaluate",
        views.PaymentFlowEvaluateView.as_view(),
        name="payment_flow_evaluate",
    ),
    path(
        "processor_insights",
        views.ProcessorInsightsView.as_view(),
        name="processor_insights",
    ),
]
