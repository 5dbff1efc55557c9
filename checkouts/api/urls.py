from django.urls import path

from . import views

urlpatterns = [
    path("checkouts", views.CheckoutCollectionView.as_view()),
    path("checkouts/<str:id>", views.CheckoutDetailView.as_view()),
    path("checkouts/<str:id>/complete", views.CheckoutCompleteView.as_view()),
    path("checkout_insights", views.CheckoutInsightsView.as_view()),
]
