from django.urls import path

from . import views

urlpatterns = [
    path("payment_intents", views.PaymentIntentsView.as_view()),
    path("payment_intents/<str:id>", views.PaymentIntentView.as_view()),
    path("payment_intents/<str:id>/attach", views.PaymentIntentAttachView.as_view()),
    path("payment_intents/<str:id>/capture", views.PaymentIntentCaptureView.as_view()),
    path("payment_intents/<str:id>/cancel", views.PaymentIntentCancelView.as_view()),
    path("payment_methods", views.PaymentMethodsView.as_view()),
    path("payment_methods/<str:id>", views.PaymentMethodView.as_view()),
    path("payments", views.PaymentsView.as_view()),
    path("payments/<str:id>", views.PaymentView.as_view()),
    path("refunds", views.RefundsView.as_view()),
    path("refunds/<str:id>", views.RefundView.as_view()),
    path("customers", views.CustomersView.as_view()),
    path("customers/<str:id>", views.CustomerView.as_view()),
    path("webhooks", views.WebhooksView.as_view()),
    path("webhooks/<str:id>", views.WebhookView.as_view()),
    path("webhooks/<str:id>/enable", views.WebhookEnableView.as_view()),
    path("webhooks/<str:id>/disable", views.WebhookDisableView.as_view()),
]
