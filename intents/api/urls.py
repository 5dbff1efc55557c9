from django.urls import path

from . import setup_intents, views

urlpatterns = [
    path("payment_intents", views.PaymentIntentCollectionView.as_view()),
    # search before <str:id>, or "search" would be taken for an id
    path("payment_intents/search", views.PaymentIntentSearchView.as_view()),
    path("payment_intents/<str:id>", views.PaymentIntentDetailView.as_view()),
    path("payment_intents/<str:id>/confirm", views.PaymentIntentConfirmView.as_view()),
    path("payment_intents/<str:id>/attach", views.PaymentIntentAttachView.as_view()),
    path("payment_intents/<str:id>/capture", views.PaymentIntentCaptureView.as_view()),
    path("payment_intents/<str:id>/cancel", views.PaymentIntentCancelView.as_view()),
    path(
        "payment_intents/<str:id>/increment_authorization",
        views.PaymentIntentIncrementView.as_view(),
    ),
    path("setup_intents", setup_intents.SetupIntentCollectionView.as_view()),
    path("setup_intents/<str:id>", setup_intents.SetupIntentDetailView.as_view()),
    path("setup_intents/<str:id>/confirm", setup_intents.SetupIntentConfirmView.as_view()),
    path("setup_intents/<str:id>/cancel", setup_intents.SetupIntentCancelView.as_view()),
]
