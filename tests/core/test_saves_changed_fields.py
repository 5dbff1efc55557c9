"""One rule for partial writes: every model written after it is read saves only the columns
that changed (`core.models.SavesChangedFields`): every API object through `ScopedModel`, and
the other models that name it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, ApiKey
from core.models import ScopedModel
from core.scope import Scope
from events.models import Delivery
from events.services import webhook_endpoint_update
from payments.models import Customer
from tests.factories import CustomerFactory, WebhookEndpointFactory

# Written after being read, and not API objects.
OTHERS = (Account, ApiKey, Delivery)


def test_every_api_object_and_every_other_model_written_after_a_read_saves_changed_fields():
    scoped = [m for m in apps.get_models() if issubclass(m, ScopedModel)]
    assert Customer in scoped
    for model in [*scoped, *OTHERS]:
        assert callable(getattr(model, "changed_fields", None)), model


@pytest.mark.django_db
def test_a_service_update_writes_only_the_columns_it_changed():
    endpoint = WebhookEndpointFactory()
    with CaptureQueriesContext(connection) as queries:
        webhook_endpoint_update(
            scope=Scope.of(endpoint), webhook_endpoint_id=endpoint.id, description="new"
        )
    [update] = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert '"description"' in update
    assert '"url"' not in update and '"secret"' not in update


@pytest.mark.django_db
def test_two_writers_of_different_columns_keep_both_changes():
    first = CustomerFactory(email="old@example.com", name="Old")
    second = Customer.objects.get(pk=first.pk)
    first.name = "New"
    first.save()
    second.email = "new@example.com"
    second.save()
    first.refresh_from_db()
    assert (first.name, first.email) == ("New", "new@example.com")
