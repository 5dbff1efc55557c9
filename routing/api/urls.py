from django.urls import path

from . import views

urlpatterns = [
    path("processors", views.ProcessorsView.as_view(), name="processors"),
    path("processors/<str:id>", views.ProcessorDetailView.as_view(), name="processor_detail"),
    path("payment_flows", views.PaymentFlowsView.as_view(), name="payment_flows"),
    path(
        "payment_flows/<str:id>",
        views.PaymentFlowDetailView.as_view(),
        name="payment_flow_detail",
    ),
]
