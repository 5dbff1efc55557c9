"""`core.prepared.PreparedQuery` on its own: its rows are the queryset's rows (select_related
rows read along, converters applied, `from_db` instances), it compiles once per connection and
variant and reuses that SQL with the new strings, and it refuses a string that does not reach
the SQL as it was given."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from core.prepared import PreparedQuery
from intents.models import PaymentIntent
from payments.models import Charge
from tests.factories import AccountFactory, ChargeFactory, PaymentIntentFactory

AUTHORIZED = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def _values(obj) -> dict:
    """Every column of a row as Python sees it, with the type the converters gave it."""
    return {
        field.attname: (type(getattr(obj, field.attname)), getattr(obj, field.attname))
        for field in type(obj)._meta.concrete_fields
    }


def _with_charge_query(variant, payment_intent_id: str):
    """Variant True: the latest charge and its method read along; False: the intent alone."""
    queryset = PaymentIntent.objects.filter(id=payment_intent_id)
    if variant:
        queryset = queryset.select_related("latest_charge__payment_method", "account")
    return queryset


@pytest.fixture
def compilations(monkeypatch) -> list:
    """Every SQL compilation of a query (`SQLCompiler.as_sql`), by model."""
    seen: list = []
    as_sql = SQLCompiler.as_sql

    def counted(self, *args, **kwargs):
        seen.append(self.query.model)
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counted)
    return seen


def _intent_with_charge(**fields) -> PaymentIntent:
    """An intent whose latest charge (with its payment method) is in the database, with JSON
    and datetime columns set to values a converter has to turn back into Python."""
    charge = ChargeFactory(
        payment_intent__metadata={"order": "1234", "nested": {"list": [1, 2.5, None]}},
        payment_intent__shipping={"name": "Jenny Rosen", "address": {"city": "Dublin"}},
        payment_intent__authorized_at=AUTHORIZED,
        payment_intent__payment_method_types=["card"],
        outcome={"network_status": "approved_by_network", "risk_score": 12},
        payment_method__billing_details={"email": "jenny@example.com"},
        **fields,
    )
    pi = charge.payment_intent
    pi.latest_charge = charge
    pi.payment_method = charge.payment_method
    pi.save()
    return pi


# --- the rows --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rows_are_the_querysets_rows_with_the_related_rows_read_along(
    django_assert_num_queries,
):
    pi = _intent_with_charge()
    prepared = PreparedQuery(_with_charge_query)
    expected = list(_with_charge_query(True, pi.id))

    with django_assert_num_queries(1):
        rows = prepared.rows(True, pi.id)
    assert len(rows) == len(expected) == 1
    got, want = rows[0], expected[0]
    assert type(got) is PaymentIntent
    assert _values(got) == _values(want)
    with django_assert_num_queries(0):  # read along, not fetched on access
        charge, method, account = got.latest_charge, got.latest_charge.payment_method, got.account
    assert type(charge) is Charge
    assert _values(charge) == _values(want.latest_charge)
    assert _values(method) == _values(want.latest_charge.payment_method)
    assert _values(account) == _values(want.account)
    # the second call, from the compiled SQL, builds the same again
    assert _values(prepared.rows(True, pi.id)[0]) == _values(want)


@pytest.mark.django_db
def test_converters_give_json_values_and_aware_datetimes():
    pi = _intent_with_charge()
    prepared = PreparedQuery(_with_charge_query)
    prepared.rows(True, pi.id)  # compile
    got = prepared.rows(True, pi.id)[0]
    assert got.metadata == {"order": "1234", "nested": {"list": [1, 2.5, None]}}
    assert got.shipping == {"name": "Jenny Rosen", "address": {"city": "Dublin"}}
    assert got.payment_method_types == ["card"]
    assert got.next_action is None
    assert got.authorized_at == AUTHORIZED and got.authorized_at.tzinfo is not None
    assert isinstance(got.created, datetime) and got.created.tzinfo is not None
    assert got.latest_charge.outcome == {"network_status": "approved_by_network", "risk_score": 12}
    assert got.latest_charge.payment_method.billing_details == {"email": "jenny@example.com"}


@pytest.mark.django_db
def test_a_null_related_row_is_read_along_as_none(django_assert_num_queries):
    pi = PaymentIntentFactory()
    prepared = PreparedQuery(_with_charge_query)
    prepared.rows(True, pi.id)  # compile
    got = prepared.rows(True, pi.id)[0]
    assert got._state.fields_cache["latest_charge"] is None  # read along (the join found none)
    with django_assert_num_queries(0):
        assert got.latest_charge is None
        assert got.account.id == pi.account_id


@pytest.mark.django_db
def test_instances_come_from_from_db_and_behave_as_the_querysets_do():
    pi = _intent_with_charge()
    prepared = PreparedQuery(_with_charge_query)
    prepared.rows(True, pi.id)  # compile
    got = prepared.rows(True, pi.id)[0]
    assert got._state.adding is False and got._state.db == "default"
    assert got.latest_charge._state.adding is False and got.latest_charge._state.db == "default"
    # SavesChangedFields remembers what `from_db` read: unchanged, only `updated` is written
    assert got.changed_fields() == ["updated"] and not got.has_unsaved_changes()
    assert got.latest_charge.changed_fields() == ["updated"]
    assert not got.latest_charge.has_unsaved_changes()
    # a change in place of a JSON value is an UPDATE of that column (and `updated`) only
    got.metadata["order"] = "5678"
    assert got.changed_fields() == ["metadata", "updated"]
    with CaptureQueriesContext(connection) as queries:
        got.save()
    [update] = queries.captured_queries
    assert update["sql"].startswith('UPDATE "intents_paymentintent" SET "metadata" = ')
    assert '"amount"' not in update["sql"]
    assert PaymentIntent.objects.get(id=pi.id).metadata["order"] == "5678"
    assert got == PaymentIntent.objects.get(id=pi.id)  # equality by primary key


@pytest.mark.django_db
def test_no_row_is_an_empty_list():
    prepared = PreparedQuery(_with_charge_query)
    assert prepared.rows(True, "pi_missing") == []
    assert prepared.rows(True, "pi_missing") == []  # and from the compiled SQL
    assert prepared.rows(False, "pi_missing") == []


# --- compiled once, and reused -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_variant_compiles_once_per_connection_and_is_reused(compilations):
    first, second = PaymentIntentFactory(), PaymentIntentFactory()
    built: list = []

    def build(variant, payment_intent_id):
        built.append(variant)
        return _with_charge_query(variant, payment_intent_id)

    prepared = PreparedQuery(build)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert [pi.id for pi in prepared.rows(True, first.id)] == [first.id]
            assert [pi.id for pi in prepared.rows(True, second.id)] == [second.id]
    assert built == [True]
    assert compilations == [PaymentIntent]
    assert len(queries.captured_queries) == 6


@pytest.mark.django_db
def test_different_variants_compile_separately(compilations, django_assert_num_queries):
    pi = _intent_with_charge()
    prepared = PreparedQuery(_with_charge_query)
    for _ in range(2):
        with_charge = prepared.rows(True, pi.id)[0]
        alone = prepared.rows(False, pi.id)[0]
    assert compilations == [PaymentIntent, PaymentIntent]
    assert "latest_charge" in with_charge._state.fields_cache
    assert "latest_charge" not in alone._state.fields_cache
    with django_assert_num_queries(1):  # the intent alone fetches its charge on access
        assert alone.latest_charge.id == with_charge.latest_charge.id


@pytest.mark.django_db
def test_a_variants_constants_stay_in_its_sql():
    pi = PaymentIntentFactory(livemode=False)
    prepared = PreparedQuery(
        lambda livemode, payment_intent_id: PaymentIntent.objects.filter(
            id=payment_intent_id, livemode=livemode
        )
    )
    for _ in range(2):
        assert [row.id for row in prepared.rows(False, pi.id)] == [pi.id]
        assert prepared.rows(True, pi.id) == []


@pytest.mark.django_db(transaction=True)
def test_another_connection_compiles_its_own(compilations):
    prepared = PreparedQuery(_with_charge_query)
    prepared.rows(True, "pi_missing")
    prepared.rows(True, "pi_missing")
    assert len(compilations) == 1
    errors: list = []

    def in_a_thread():  # a thread has its own connection object
        try:
            assert prepared.rows(True, "pi_missing") == []
            assert prepared.rows(True, "pi_missing") == []
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join(timeout=30)
    assert errors == []
    assert len(compilations) == 2
    prepared.rows(True, "pi_missing")  # this thread's compilation is still there
    assert len(compilations) == 2


# --- the string parameters ---------------------------------------------------------------------


@pytest.mark.django_db
def test_each_call_gets_the_rows_of_its_own_strings():
    account, other = AccountFactory(), AccountFactory()
    first = PaymentIntentFactory(account=account, amount=100)
    second = PaymentIntentFactory(account=account, amount=200)
    prepared = PreparedQuery(
        lambda variant, payment_intent_id, account_id: PaymentIntent.objects.filter(
            id=payment_intent_id, account_id=account_id
        )
    )
    assert [pi.amount for pi in prepared.rows(None, first.id, account.id)] == [100]
    assert [pi.amount for pi in prepared.rows(None, second.id, account.id)] == [200]
    assert [pi.amount for pi in prepared.rows(None, first.id, account.id)] == [100]
    # each string goes to its own parameter: the wrong account finds nothing
    assert prepared.rows(None, first.id, other.id) == []
    assert prepared.rows(None, account.id, first.id) == []


@pytest.mark.django_db
def test_a_string_used_twice_is_substituted_in_both_places():
    pi = _intent_with_charge()
    other = _intent_with_charge()
    prepared = PreparedQuery(
        lambda variant, payment_intent_id: PaymentIntent.objects.select_related(
            "latest_charge"
        ).filter(id=payment_intent_id, latest_charge__payment_intent_id=payment_intent_id)
    )
    assert [row.latest_charge.id for row in prepared.rows(None, pi.id)] == [pi.latest_charge_id]
    assert [row.latest_charge.id for row in prepared.rows(None, other.id)] == [
        other.latest_charge_id
    ]


# --- select_for_update, as Django does -----------------------------------------------------------


def _lock_query(variant, payment_intent_id: str):
    return PaymentIntent.objects.select_for_update(of=("self",)).filter(id=payment_intent_id)


@pytest.mark.django_db(transaction=True)
def test_select_for_update_outside_a_transaction_raises_as_django_does():
    pi = PaymentIntentFactory()
    with pytest.raises(TransactionManagementError) as djangos:
        list(_lock_query(None, pi.id))
    # compiled outside a transaction: Django's compiler itself refuses
    with pytest.raises(TransactionManagementError) as ours:
        PreparedQuery(_lock_query).rows(None, pi.id)
    assert str(ours.value) == str(djangos.value)
    # compiled inside one, it locks; run again outside one, the compiled SQL is refused too
    prepared = PreparedQuery(_lock_query)
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            assert [row.id for row in prepared.rows(None, pi.id)] == [pi.id]
    [locking] = [q["sql"] for q in queries.captured_queries if "SELECT" in q["sql"]]
    assert locking.endswith('FOR UPDATE OF "intents_paymentintent"')
    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(TransactionManagementError) as ours:
            prepared.rows(None, pi.id)
    assert str(ours.value) == str(djangos.value)
    assert queries.captured_queries == []  # refused before anything is sent


# --- strings that do not reach the SQL as given --------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "build",
    [
        # the ORM makes a new string of it ('%…%', escaped)
        lambda variant, value: PaymentIntent.objects.filter(description__contains=value),
        lambda variant, value: PaymentIntent.objects.filter(id__startswith=value),
        # not used at all
        lambda variant, value: PaymentIntent.objects.filter(id="pi_constant"),
        # used as something else than a parameter
        lambda variant, value: PaymentIntent.objects.filter(id=value[:3]),
    ],
    ids=["contains", "startswith", "unused", "sliced"],
)
def test_a_string_that_does_not_reach_the_sql_unchanged_is_refused(build):
    prepared = PreparedQuery(build)
    for _ in range(2):  # nothing is kept of a failed compilation
        with pytest.raises(ValueError, match="did not reach the SQL unchanged"):
            prepared.rows(None, "pi_value")


@pytest.mark.django_db
def test_one_of_two_strings_missing_is_refused():
    prepared = PreparedQuery(
        lambda variant, payment_intent_id, account_id: PaymentIntent.objects.filter(
            id=payment_intent_id
        )
    )
    with pytest.raises(ValueError, match="did not reach the SQL unchanged"):
        prepared.rows(None, "pi_value", "acct_value")


@pytest.mark.django_db
def test_a_copied_marker_is_refused():
    """A marker that reaches the SQL as another object of its type (copied, rebuilt) cannot be
    told apart from the caller's other strings."""
    prepared = PreparedQuery(
        lambda variant, value: PaymentIntent.objects.filter(id=type(value)(value))
    )
    for _ in range(2):
        with pytest.raises(ValueError, match="a marker was transformed while compiling"):
            prepared.rows(None, "pi_value")
