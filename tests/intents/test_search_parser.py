"""The search query language at the unit level: parse a query, filter real rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.errors import from_domain
from core.errors import InvalidRequestError
from intents.models import PaymentIntent
from intents.search import parse_search_query, search_query_to_q
from payments.models import Customer

T0 = 1_700_000_000  # a fixed unix second for created


def at(seconds: float) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


@pytest.fixture
def make_intent(acct):
    counter = iter(range(10_000))

    def make(
        *,
        amount=1000,
        currency="usd",
        status=None,
        metadata=None,
        customer=None,
        created=None,
    ) -> PaymentIntent:
        n = next(counter)
        intent = PaymentIntent.objects.create(
            account=acct.account,
            livemode=False,
            amount=amount,
            currency=currency,
            metadata=metadata or {},
            customer=customer,
            created=created if created is not None else at(T0 + n),
            client_secret=f"secret_{acct.account.id}_{n}",
        )
        if status:
            PaymentIntent.objects.filter(pk=intent.pk).update(status=status)
        return intent

    return make


@pytest.fixture
def customer(acct):
    return Customer.objects.create(account=acct.account, livemode=False, email="a@example.com")


def search(query: str) -> set[str]:
    return set(PaymentIntent.objects.filter(search_query_to_q(query)).values_list("id", flat=True))


def ids(*intents: PaymentIntent) -> set[str]:
    return {intent.id for intent in intents}


def error_of(query: str) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        search_query_to_q(query)
    return info.value


# --- exact matches ------------------------------------------------------------------------------


def test_status_exact_match(db, make_intent):
    done = make_intent(status="succeeded")
    make_intent(status="canceled")
    make_intent()
    assert search("status:'succeeded'") == ids(done)


def test_currency_match_is_case_insensitive(db, make_intent):
    eur = make_intent(currency="eur")
    make_intent(currency="usd")
    assert search("currency:'EUR'") == ids(eur)


def test_customer_match_by_id(db, make_intent, customer):
    mine = make_intent(customer=customer)
    make_intent()
    assert search(f"customer:'{customer.id}'") == ids(mine)


def test_customer_null_matches_intents_without_customer(db, make_intent, customer):
    make_intent(customer=customer)
    alone = make_intent()
    assert search("customer:null") == ids(alone)


def test_bare_and_quoted_values_mean_the_same(db, make_intent):
    done = make_intent(status="succeeded")
    make_intent()
    assert search("status:succeeded") == search('status:"succeeded"') == ids(done)


# --- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("amount:2000", {2000}),
        ("amount>2000", {3000}),
        ("amount>=2000", {2000, 3000}),
        ("amount<2000", {1000}),
        ("amount<=2000", {1000, 2000}),
    ],
)
def test_amount_comparisons(db, make_intent, query, expected):
    for amount in (1000, 2000, 3000):
        make_intent(amount=amount)
    found = PaymentIntent.objects.filter(search_query_to_q(query)).values_list("amount", flat=True)
    assert set(found) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"created:{T0 + 10}", {"b"}),
        (f"created>{T0 + 10}", {"c"}),
        (f"created>={T0 + 10}", {"b", "c"}),
        (f"created<{T0 + 10}", {"a"}),
        (f"created<={T0 + 10}", {"a", "b"}),
    ],
)
def test_created_compares_whole_unix_seconds(db, make_intent, query, expected):
    # b lies inside the second T0+10 (with microseconds), a and c in the seconds around it
    rows = {
        "a": make_intent(created=at(T0 + 9.999)),
        "b": make_intent(created=at(T0 + 10.5)),
        "c": make_intent(created=at(T0 + 11)),
    }
    assert search(query) == {rows[name].id for name in expected}


def test_quoted_integer_is_accepted_for_amount(db, make_intent):
    big = make_intent(amount=5000)
    make_intent(amount=100)
    assert search("amount:'5000'") == ids(big)


@pytest.mark.parametrize("value", ["10.5", "1e3", "abc", "''", "null", "０"])
def test_amount_needs_an_integer(db, value):
    error = error_of(f"amount>{value}")
    assert "integer" in error.message
    assert error.message.endswith("at position 7.")


def test_created_out_of_range_is_rejected(db):
    error = error_of("created>99999999999999")
    assert error.code == "parameter_invalid_string"
    assert "position 8" in error.message


# --- metadata -----------------------------------------------------------------------------------


def test_metadata_match_with_single_quotes(db, make_intent):
    hit = make_intent(metadata={"order": "42"})
    make_intent(metadata={"order": "43"})
    make_intent(metadata={"other": "42"})
    assert search("metadata['order']:'42'") == ids(hit)


def test_metadata_match_with_double_quotes(db, make_intent):
    hit = make_intent(metadata={"order": "42"})
    make_intent(metadata={"order": "43"})
    assert search('metadata["order"]:"42"') == ids(hit)


def test_metadata_all_digit_key_is_an_object_key(db, make_intent):
    hit = make_intent(metadata={"7": "seven"})
    make_intent(metadata={"8": "seven"})
    assert search("metadata['7']:'seven'") == ids(hit)


def test_metadata_key_with_odd_characters(db, make_intent):
    key = 'we\'ird "key" $.x; --'
    hit = make_intent(metadata={key: "v"})
    make_intent(metadata={"weird": "v"})
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    assert search(f"metadata['{escaped}']:'v'") == ids(hit)


def test_metadata_null_matches_missing_key(db, make_intent):
    make_intent(metadata={"order": "1"})
    without = make_intent(metadata={"other": "1"})
    assert search("metadata['order']:null") == ids(without)


def test_metadata_without_key_is_rejected(db):
    error = error_of("metadata:'x'")
    assert "metadata needs a key" in error.message
    assert error.message.endswith("at position 8.")


def test_key_on_another_field_is_rejected(db):
    error = error_of("status['x']:'y'")
    assert "only metadata takes a [key]" in error.message


# --- negation -----------------------------------------------------------------------------------


def test_negated_status(db, make_intent):
    make_intent(status="succeeded")
    other = make_intent(status="canceled")
    assert search("-status:'succeeded'") == ids(other)


def test_negated_metadata_includes_intents_without_the_key(db, make_intent):
    make_intent(metadata={"order": "42"})
    different = make_intent(metadata={"order": "43"})
    missing = make_intent()
    assert search("-metadata['order']:'42'") == ids(different, missing)


def test_negated_metadata_null_means_key_present(db, make_intent):
    present = make_intent(metadata={"order": "42"})
    make_intent()
    assert search("-metadata['order']:null") == ids(present)


def test_negated_customer_includes_intents_without_customer(db, make_intent, customer):
    make_intent(customer=customer)
    alone = make_intent()
    assert search(f"-customer:'{customer.id}'") == ids(alone)


def test_negated_amount_comparison(db, make_intent):
    small = make_intent(amount=100)
    make_intent(amount=5000)
    assert search("-amount>1000") == ids(small)


# --- substring ----------------------------------------------------------------------------------


def test_substring_on_metadata_value(db, make_intent):
    hit = make_intent(metadata={"email": "jenny@example.com"})
    make_intent(metadata={"email": "bob@other.org"})
    assert search("metadata['email']~'example'") == ids(hit)


def test_substring_on_customer_id(db, make_intent, customer):
    mine = make_intent(customer=customer)
    make_intent()
    assert search(f"customer~'{customer.id[4:10]}'") == ids(mine)


def test_substring_like_wildcards_are_literal(db, make_intent):
    hit = make_intent(metadata={"note": "100%_off"})
    make_intent(metadata={"note": "100 and off"})
    assert search("metadata['note']~'0%_o'") == ids(hit)


def test_substring_needs_three_characters(db):
    error = error_of("metadata['a']~'ab'")
    assert "at least 3 characters" in error.message
    assert error.message.endswith("at position 14.")


def test_substring_on_number_is_rejected(db):
    error = error_of("amount~'100'")
    assert "~ works on strings" in error.message
    assert error.message.endswith("at position 6.")


def test_comparison_on_string_is_rejected(db):
    error = error_of("status>'a'")
    assert "compares numbers" in error.message
    assert error.message.endswith("at position 6.")


# --- AND / OR -----------------------------------------------------------------------------------


def test_and_requires_every_clause(db, make_intent):
    hit = make_intent(status="succeeded", amount=5000)
    make_intent(status="succeeded", amount=500)
    make_intent(amount=5000)
    assert search("status:'succeeded' AND amount>1000") == ids(hit)


def test_or_accepts_any_clause(db, make_intent):
    eur = make_intent(currency="eur")
    gbp = make_intent(currency="gbp")
    make_intent(currency="usd")
    assert search("currency:'eur' OR currency:'gbp'") == ids(eur, gbp)


def test_three_clauses_with_or(db, make_intent):
    a = make_intent(amount=100)
    b = make_intent(amount=200)
    c = make_intent(amount=300)
    make_intent(amount=400)
    assert search("amount:100 OR amount:200 OR amount:300") == ids(a, b, c)


def test_mixing_and_with_or_is_rejected(db):
    error = error_of("amount>1 AND amount<5 OR status:'x'")
    assert "AND and OR cannot be combined" in error.message
    assert error.message.endswith("at position 22.")


def test_lowercase_conjunction_is_rejected(db):
    error = error_of("amount>1 and amount<5")
    assert "expected AND or OR" in error.message
    assert error.message.endswith("at position 9.")


def test_conjunction_without_following_clause_is_rejected(db):
    error = error_of("amount>1 AND ")
    assert "expected a clause after AND" in error.message


def test_clauses_need_a_conjunction(db):
    error = error_of("amount>1 amount<5")
    assert error.message.endswith("at position 9.")


def test_too_many_clauses_are_rejected(db):
    query = " OR ".join(f"amount:{n}" for n in range(11))
    assert "at most 10 clauses" in error_of(query).message


# --- quotes -------------------------------------------------------------------------------------


def test_escaped_single_quote_inside_single_quotes(db, make_intent):
    hit = make_intent(metadata={"name": "O'Brien"})
    make_intent(metadata={"name": "OBrien"})
    assert search(r"metadata['name']:'O\'Brien'") == ids(hit)


def test_escaped_double_quote_inside_double_quotes(db, make_intent):
    hit = make_intent(metadata={"q": 'say "hi"'})
    make_intent(metadata={"q": "say hi"})
    assert search(r'metadata["q"]:"say \"hi\""') == ids(hit)


def test_other_quote_needs_no_escape(db, make_intent):
    hit = make_intent(metadata={"q": 'it\'s "x"'})
    assert search('metadata[\'q\']:"it\'s \\"x\\""') == ids(hit)


def test_quoted_value_may_contain_spaces_and_keywords(db, make_intent):
    hit = make_intent(metadata={"note": "cats AND dogs"})
    make_intent(metadata={"note": "cats"})
    assert search("metadata['note']:'cats AND dogs'") == ids(hit)


def test_unterminated_string_names_the_opening_quote(db):
    error = error_of("status:'succeeded")
    assert "unterminated string" in error.message
    assert error.message.endswith("at position 7.")


def test_quote_inside_bare_value_is_rejected(db):
    error = error_of("status:succ'eeded")
    assert error.message.endswith("at position 11.")


# --- errors in general --------------------------------------------------------------------------


def test_unknown_field_is_rejected_with_its_position(db):
    error = error_of("amount>1 AND colour:'red'")
    assert error.code == "parameter_invalid_string"
    assert error.param == "query"
    assert from_domain(error).http_status == 400
    assert "unknown field 'colour'" in error.message
    assert error.message.endswith("at position 13.")


def test_missing_operator_is_rejected(db):
    error = error_of("status 'succeeded'")
    assert "expected an operator" in error.message
    assert error.message.endswith("at position 6.")


def test_parentheses_are_rejected(db):
    error = error_of("(status:'a' OR status:'b') AND amount>1")
    assert "parentheses are not supported" in error.message
    assert error.message.endswith("at position 0.")


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_query_is_rejected(db, query):
    assert "empty" in error_of(query).message


def test_missing_value_is_rejected(db):
    error = error_of("status:")
    assert "expected a value" in error.message
    assert error.message.endswith("at position 7.")


def test_nul_character_is_rejected(db):
    error = error_of("metadata['a']:'x\x00y'")
    assert error.message.endswith("at position 16.")


def test_surrounding_whitespace_is_ignored(db, make_intent):
    done = make_intent(status="succeeded")
    assert search("  status:'succeeded'  ") == ids(done)


def test_error_becomes_the_stripe_envelope(db):
    envelope = from_domain(error_of("amount>>1")).envelope()["error"]
    assert envelope["type"] == "invalid_request_error"
    assert envelope["code"] == "parameter_invalid_string"
    assert envelope["param"] == "query"
    assert "position 7" in envelope["message"]


# --- fuzzing ------------------------------------------------------------------------------------

_alphabet = st.sampled_from(
    list("amountcreatedcurrencystatusmetadatacustomer:~<>=-'\"[]()\\ _.AND OR0123456789\x00é\t")
)
_query_ish = st.one_of(
    st.text(),
    st.text(alphabet=_alphabet, max_size=60),
    st.lists(
        st.sampled_from(
            [
                "amount",
                "created",
                "metadata['k']",
                'metadata["k"]',
                "status",
                "customer",
                "currency",
                "-",
                ":",
                "~",
                ">",
                ">=",
                "<",
                "<=",
                " AND ",
                " OR ",
                "'abc'",
                '"a\\"b"',
                "123",
                "99999999999999999999999",
                "null",
                " ",
            ]
        ),
        max_size=12,
    ).map("".join),
)


@given(_query_ish)
@settings(max_examples=500, deadline=None)
def test_fuzz_parser_raises_only_invalid_request_error(query):
    try:
        search_query_to_q(query)
    except InvalidRequestError as error:
        assert error.param == "query"
        assert "at position " in error.message


@given(_query_ish)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_fuzz_accepted_queries_run_against_the_database(db, query):
    try:
        q = search_query_to_q(query)
    except InvalidRequestError:
        return
    list(PaymentIntent.objects.filter(q).values_list("id", flat=True)[:1])


def test_parse_keeps_clause_positions(db):
    parsed = parse_search_query("amount>1 OR -status:'x'")
    assert [c.position for c in parsed.clauses] == [0, 12]
    assert parsed.conjunction == "OR"
    assert parsed.clauses[1].negated is True
