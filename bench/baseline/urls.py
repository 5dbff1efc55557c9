from django.urls import path

from . import views

urlpatterns = [
    path("v1/payment_intents", views.PaymentIntentList.as_view()),
    path("v1/payment_intents/<str:pk>", views.PaymentIntentDetail.as_view()),
    path("v1/payment_intents/<str:pk>/confirm", views.PaymentIntentConfirm.as_view()),
    path("v1/payment_intents/<str:pk>/capture", views.PaymentIntentCapture.as_view()),
]
