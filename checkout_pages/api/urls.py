from django.urls import path

from . import views

urlpatterns = [
    path("checkout_intents", views.CheckoutIntentCollectionView.as_view()),
    path("checkout_intents/<str:id>", views.CheckoutIntentDetailView.as_view()),
    path("checkout_intents/<str:id>/cancel", views.CheckoutIntentCancelView.as_view()),
    path("checkout_intents/<str:id>/expire", views.CheckoutIntentExpireView.as_view()),
    path("checkout_intents/<str:id>/client_token", views.CheckoutIntentClientTokenView.as_view()),
]
