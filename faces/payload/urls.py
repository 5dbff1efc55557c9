from django.urls import path

from . import views

urlpatterns = [
    path("intents", views.IntentsView.as_view()),
    path("intents/<str:id>", views.IntentView.as_view()),
    path("intents/<str:id>/client_token", views.IntentClientTokenView.as_view()),
    path("transactions", views.TransactionsView.as_view()),
    path("transactions/<str:id>", views.TransactionView.as_view()),
    path("customers", views.CustomersView.as_view()),
    path("customers/<str:id>", views.CustomerView.as_view()),
    path("payment_methods", views.PaymentMethodsView.as_view()),
    path("payment_methods/<str:id>", views.PaymentMethodView.as_view()),
    path("webhooks", views.WebhooksView.as_view()),
    path("webhooks/<str:id>", views.WebhookView.as_view()),
]
