from django.urls import path

from .views import WhenThenGraphQLView

urlpatterns = [
    path("graphql", WhenThenGraphQLView.as_view(), name="whenthen_graphql"),
]
