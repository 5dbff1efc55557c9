"""One rule for partial writes: every model written after it is read saves only the columns
that changed (`core.models.SavesChangedFields`): every API object through `ScopedModel`, and
the other models that name it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DatabaseError, connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.db.models.signals import post_save, pre_save
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


# --- the compiled UPDATE (`SavesChangedFields._update_columns`) ------------------------------


@pytest.mark.django_db
def test_a_changed_row_is_written_by_one_update_and_read_back_as_written():
    customer = CustomerFactory(email="old@example.com", metadata={"a": "1"})
    customer = Customer.objects.get(id=customer.id)
    customer.email = "new@example.com"
    customer.metadata["b"] = "2"
    with CaptureQueriesContext(connection) as queries:
        customer.save()
    [update] = [q["sql"] for q in queries]
    assert update.startswith('UPDATE "payments_customer" SET')
    assert '"email"' in update and '"metadata"' in update and '"name"' not in update
    again = Customer.objects.get(id=customer.id)
    assert (again.email, again.metadata) == ("new@example.com", {"a": "1", "b": "2"})
    with CaptureQueriesContext(connection) as queries:
        customer.save()  # nothing changed since: nothing written
    assert len(queries) == 0


@pytest.mark.django_db
def test_saving_a_row_deleted_meanwhile_fails_as_the_orm_does():
    customer = Customer.objects.get(id=CustomerFactory().id)
    Customer.objects.filter(id=customer.id).delete()
    customer.email = "late@example.com"
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        customer.save()


@pytest.mark.django_db
def test_an_expression_value_goes_through_the_orm():
    customer = Customer.objects.get(id=CustomerFactory(email="a@example.com").id)
    customer.email = Concat(F("email"), Value(".org"))
    customer.save()
    assert Customer.objects.get(id=customer.id).email == "a@example.com.org"


@pytest.mark.django_db
def test_a_save_signal_receiver_still_hears_every_save():
    heard = []

    def receiver(sender, instance, **kwargs):
        heard.append(sorted(kwargs.get("update_fields") or []))

    customer = Customer.objects.get(id=CustomerFactory().id)
    pre_save.connect(receiver, sender=Customer)
    post_save.connect(receiver, sender=Customer)
    try:
        customer.name = "Ada"
        customer.save()
    finally:
        pre_save.disconnect(receiver, sender=Customer)
        post_save.disconnect(receiver, sender=Customer)
    assert len(heard) == 2 and all("name" in fields for fields in heard)
    assert Customer.objects.get(id=customer.id).name == "Ada"
