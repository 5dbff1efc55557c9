from django.urls import path

from . import stripe_checkout as sc
from . import views

urlpatterns = [
    path("checkout_intents", views.CheckoutIntentCollectionView.as_view()),
    path("checkout_intents/<str:id>", views.CheckoutIntentDetailView.as_view()),
    path("checkout_intents/<str:id>/cancel", views.CheckoutIntentCancelView.as_view()),
    path("checkout_intents/<str:id>/expire", views.CheckoutIntentExpireView.as_view()),
    path("checkout_intents/<str:id>/client_token", views.CheckoutIntentClientTokenView.as_view()),
    path("products", sc.ProductCollectionView.as_view()),
    path("products/<str:id>", sc.ProductDetailView.as_view()),
    path("prices", sc.PriceCollectionView.as_view()),
    path("prices/<str:id>", sc.PriceDetailView.as_view()),
    path("checkout/sessions", sc.SessionCollectionView.as_view()),
    path("checkout/sessions/<str:id>", sc.SessionDetailView.as_view()),
    path("checkout/sessions/<str:id>/expire", sc.SessionExpireView.as_view()),
    path("checkout/sessions/<str:id>/line_items", sc.SessionLineItemsView.as_view()),
    path("payment_links", sc.PaymentLinkCollectionView.as_view()),
    path("payment_links/<str:id>", sc.PaymentLinkDetailView.as_view()),
    path("payment_links/<str:id>/line_items", sc.PaymentLinkLineItemsView.as_view()),
]
