from django.urls import path

from . import views

urlpatterns = [
    path("v1/payment_intents", views.IntentList.as_view()),
    path("v1/payment_intents/<str:pk>", views.IntentDetail.as_view()),
    path("v1/payment_intents/<str:pk>/confirm", views.IntentConfirm.as_view()),
    path("v1/payment_intents/<str:pk>/capture", views.IntentCapture.as_view()),
]
