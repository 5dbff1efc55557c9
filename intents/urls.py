"""Browser-facing pages (the hosted 3-D Secure page) that live outside /v1."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
