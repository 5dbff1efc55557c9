from django.urls import path

from .views import WhenThenGraphQLView, schema_sdl

urlpatterns = [
    path("graphql", WhenThenGraphQLView.as_view(), name="whenthen_graphql"),
    path("schema.graphql", schema_sdl, name="whenthen_schema"),
]
