"""The Stripe search query language, for every object that has a search endpoint (payment
intents, charges, customers): each describes its fields in a `SearchSpec`.

`search_query_to_q(query, spec)` parses a query such as

    status:'succeeded' AND amount>1000 AND -metadata['order']:null

into a `django.db.models.Q`; the search view applies the caller's scope itself.

Grammar (a scannerless recursive-descent parser; positions are 0-based character offsets):

    query    := ws* clause ( ws+ ("AND" | "OR") ws+ clause )* ws*     -- AND or OR, never both
    clause   := "-"? field ( "[" quoted "]" )? operator value          -- the [key] only on metadata
    field    := [A-Za-z0-9_]+
    operator := ":" | "~" | ">=" | "<=" | ">" | "<"
    value    := quoted | bare
    quoted   := "'" ( [^'\\] | "\\" any )* "'"  |  '"' ( [^"\\] | "\\" any )* '"'
    bare     := [^\\s'"()\\[\\]]+

Semantics:

- `amount` and `created` take integers and every operator but `~`; `created` is unix seconds
  against a microsecond timestamp, so `created:S` means the whole second S.
- `currency`, `status`, `customer` and `metadata['key']` take strings with `:` (exact) and `~`
  (substring, case-insensitive, at least 3 characters). `currency` and `status` are matched
  lower-cased.
- A bare `null` means "absent": `customer:null`, `metadata['key']:null`; `-…:null` means present.
- `-clause` negates; a negated clause also matches rows where the field is absent.
- Any malformed query raises `InvalidRequestError(code="parameter_invalid_string",
  param="query")` whose message names the position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import F, Func, Q, TextField
from django.db.models.lookups import Exact, IContains, IsNull

from core.errors import InvalidRequestError

MAX_QUERY_LENGTH = 10_000
MAX_CLAUSES = 10
MIN_SUBSTRING_LENGTH = 3
MAX_METADATA_KEY_LENGTH = 40
MAX_VALUE_LENGTH = 500
# created: unix seconds from the epoch to the end of year 9998 (so that S + 1 stays a datetime)
MAX_CREATED = int(datetime(9998, 12, 31, tzinfo=UTC).timestamp())
# amount: anything a signed 64-bit column can compare against
MAX_ABS_AMOUNT = 2**63 - 1


@dataclass(frozen=True)
class SearchSpec:
    """What one object's search may name: its numeric fields (`amount`, `created`), and its
    string fields, each with the column it reads, whether the value is matched lower-cased and
    whether the column may be null (then `field:null` matches where it is absent)."""

    numeric: frozenset[str]
    strings: dict[str, tuple[str, bool, bool]]
    metadata: bool = True
    #: the `format` the API reference gives a query over these fields
    format: str = "search-query"

    @property
    def fields(self) -> frozenset[str]:
        extra = {"metadata"} if self.metadata else set()
        return self.numeric | frozenset(self.strings) | extra

    def kinds(self) -> dict[str, str]:
        """Each field and the kind of value it compares, as the API reference lists them
        (`x-search-fields`): `integer` (`amount`), `timestamp` (`created`, unix seconds),
        `string`, `metadata` (`metadata['key']`)."""
        kinds = {field: "timestamp" if field == "created" else "integer" for field in self.numeric}
        kinds.update(dict.fromkeys(self.strings, "string"))
        if self.metadata:
            kinds["metadata"] = "metadata"
        return dict(sorted(kinds.items()))


# PaymentIntents (and, with `payment_intent`, charges): amount, created, currency, status,
# customer, metadata.
PAYMENT_INTENT_SEARCH = SearchSpec(
    numeric=frozenset({"amount", "created"}),
    strings={
        "currency": ("currency", True, False),
        "status": ("status", True, False),
        "customer": ("customer__id", False, True),
    },
    format="payment-intent-search-query",
)
CHARGE_SEARCH = SearchSpec(
    numeric=frozenset({"amount", "created"}),
    strings={
        "currency": ("currency", True, False),
        "status": ("status", True, False),
        "customer": ("customer__id", False, True),
        "payment_intent": ("payment_intent__id", False, True),
    },
    format="charge-search-query",
)
CUSTOMER_SEARCH = SearchSpec(
    numeric=frozenset({"created"}),
    strings={
        "email": ("email", False, True),
        "name": ("name", False, True),
        "phone": ("phone", False, True),
    },
    format="customer-search-query",
)
NUMERIC_FIELDS = PAYMENT_INTENT_SEARCH.numeric
FIELDS = PAYMENT_INTENT_SEARCH.fields
OPERATORS = (">=", "<=", ":", "~", ">", "<")  # two-character operators first
CONJUNCTIONS = ("AND", "OR")
_BARE_STOP = frozenset("'\"()[]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SearchQueryError(InvalidRequestError):
    code = "parameter_invalid_string"

    def __init__(self, message: str, position: int):
        super().__init__(f"Invalid search query: {message} at position {position}.", param="query")
        self.position = position


# --- syntax -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    text: str
    quoted: bool
    position: int


@dataclass(frozen=True)
class Clause:
    field: str
    key: str | None  # metadata key
    operator: str
    value: Value
    negated: bool
    position: int


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]
    conjunction: str  # "AND" or "OR" ("AND" for a single clause)


class Parser:
    def __init__(self, text: str, spec: SearchSpec = PAYMENT_INTENT_SEARCH):
        self.text = text
        self.pos = 0
        self.spec = spec

    # -- scanning helpers --
    def peek(self, length: int = 1) -> str:
        return self.text[self.pos : self.pos + length]

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def error(self, message: str, position: int | None = None) -> SearchQueryError:
        return SearchQueryError(message, self.pos if position is None else position)

    def skip_whitespace(self) -> int:
        start = self.pos
        while not self.at_end() and self.text[self.pos].isspace():
            self.pos += 1
        return self.pos - start

    def describe_here(self) -> str:
        if self.at_end():
            return "end of query"
        return repr(self.text[self.pos])

    # -- grammar --
    def parse(self) -> Query:
        self.skip_whitespace()
        if self.at_end():
            raise self.error("the query is empty")
        clauses = [self.clause()]
        conjunction: str | None = None
        while True:
            spaces = self.skip_whitespace()
            if self.at_end():
                break
            word_start = self.pos
            word = self.conjunction_word()
            if word is None or not spaces:
                raise self.error(
                    f"expected AND or OR between clauses, found {self.describe_here()}", word_start
                )
            if conjunction is not None and word != conjunction:
                raise self.error(
                    "AND and OR cannot be combined in one query (parentheses are not supported)",
                    word_start,
                )
            conjunction = word
            if not self.skip_whitespace():
                raise self.error(f"expected a space after {word}")
            if self.at_end():
                raise self.error(f"expected a clause after {word}")
            clauses.append(self.clause())
            if len(clauses) > MAX_CLAUSES:
                raise self.error(
                    f"a query may combine at most {MAX_CLAUSES} clauses", clauses[-1].position
                )
        return Query(clauses=tuple(clauses), conjunction=conjunction or "AND")

    def conjunction_word(self) -> str | None:
        for word in CONJUNCTIONS:
            if self.text.startswith(word, self.pos):
                after = self.pos + len(word)
                if after >= len(self.text) or self.text[after].isspace():
                    self.pos = after
                    return word
        return None

    def clause(self) -> Clause:
        start = self.pos
        if self.peek() in ("(", ")"):
            raise self.error("parentheses are not supported")
        negated = self.peek() == "-"
        if negated:
            self.pos += 1
        field_start = self.pos
        field = self.identifier()
        if not field:
            raise self.error(f"expected a field name, found {self.describe_here()}")
        fields = self.spec.fields
        if field not in fields:
            raise self.error(
                f"unknown field {field!r} (searchable fields: {', '.join(sorted(fields))})",
                field_start,
            )
        key = None
        if self.peek() == "[":
            if field != "metadata":
                raise self.error(f"only metadata takes a [key], not {field!r}")
            key = self.metadata_key()
        elif field == "metadata":
            raise self.error("metadata needs a key: metadata['key']:'value'")
        operator = self.operator()
        value = self.value()
        return Clause(field, key, operator, value, negated, start)

    def identifier(self) -> str:
        start = self.pos
        while not self.at_end():
            char = self.text[self.pos]
            if not (char.isascii() and (char.isalnum() or char == "_")):
                break
            self.pos += 1
        return self.text[start : self.pos]

    def metadata_key(self) -> str:
        self.pos += 1  # [
        if self.peek() not in ("'", '"'):
            raise self.error("a metadata key must be quoted: metadata['key']")
        key_start = self.pos
        key = self.quoted()
        if self.peek() != "]":
            raise self.error(
                f"expected ']' to close the metadata key, found {self.describe_here()}"
            )
        self.pos += 1
        if not key:
            raise self.error("the metadata key is empty", key_start)
        if len(key) > MAX_METADATA_KEY_LENGTH:
            raise self.error(
                f"a metadata key has at most {MAX_METADATA_KEY_LENGTH} characters", key_start
            )
        if "[" in key or "]" in key:
            raise self.error("a metadata key cannot contain '[' or ']'", key_start)
        return key

    def operator(self) -> str:
        for op in OPERATORS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op
        raise self.error(f"expected an operator (:, ~, >, <, >=, <=), found {self.describe_here()}")

    def value(self) -> Value:
        start = self.pos
        if self.peek() in ("'", '"'):
            return Value(self.quoted(), True, start)
        while not self.at_end():
            char = self.text[self.pos]
            if char.isspace():
                break
            if char in _BARE_STOP:
                if char in "()":
                    raise self.error("parentheses are not supported")
                raise self.error(f"unexpected {char!r} in a value (quote values that contain it)")
            self.pos += 1
        if self.pos == start:
            raise self.error(f"expected a value, found {self.describe_here()}")
        return Value(self.text[start : self.pos], False, start)

    def quoted(self) -> str:
        start = self.pos
        quote = self.text[self.pos]
        self.pos += 1
        chars: list[str] = []
        while True:
            if self.at_end():
                raise self.error(f"unterminated string (missing closing {quote})", start)
            char = self.text[self.pos]
            if char == "\\":
                if self.pos + 1 >= len(self.text):
                    raise self.error(f"unterminated string (missing closing {quote})", start)
                chars.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if char == quote:
                return "".join(chars)
            chars.append(char)


def parse_search_query(query: str, spec: SearchSpec = PAYMENT_INTENT_SEARCH) -> Query:
    if not isinstance(query, str):
        raise SearchQueryError("the query must be a string", 0)
    if len(query) > MAX_QUERY_LENGTH:
        raise SearchQueryError(
            f"a query has at most {MAX_QUERY_LENGTH} characters", MAX_QUERY_LENGTH
        )
    for index, char in enumerate(query):
        # NUL cannot be stored in PostgreSQL text; lone surrogates cannot be encoded at all.
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            raise SearchQueryError("invalid character", index)
    return Parser(query, spec).parse()


# --- meaning ------------------------------------------------------------------------------------


class MetadataValue(Func):
    """The text value of one metadata key, NULL when the key is absent (or not a string).

    Written by hand rather than with KeyTextTransform because Django treats an all-digit key
    ("42") as an array index; here the key is always a bound parameter and always an object
    key, whatever characters it holds.
    """

    output_field = TextField()

    def __init__(self, key: str):
        super().__init__(F("metadata"), output_field=TextField())
        self.key = key

    def __repr__(self) -> str:
        return f"MetadataValue({self.key!r})"

    def as_sql(self, compiler, connection, **extra):
        column_sql, params = compiler.compile(self.source_expressions[0])
        return f"({column_sql} ->> %s::text)", (*params, self.key)


def _integer(value: Value, field: str, low: int, high: int) -> int:
    text = value.text
    digits = text[1:] if text[:1] in ("-", "+") else text
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 20:
        raise SearchQueryError(f"{field} needs an integer, got {text!r}", value.position)
    number = int(text)
    if not low <= number <= high:
        raise SearchQueryError(f"{field} must be between {low} and {high}", value.position)
    return number


def _instant(seconds: int) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def _numeric_q(clause: Clause) -> Q:
    op = clause.operator
    if op == "~":
        raise SearchQueryError(
            f"the substring operator ~ works on strings, not on {clause.field}",
            clause.value.position - 1,
        )
    if clause.field == "amount":
        amount = _integer(clause.value, "amount", -MAX_ABS_AMOUNT, MAX_ABS_AMOUNT)
        lookup = {":": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}[op]
        return Q(**{f"amount__{lookup}": amount})
    seconds = _integer(clause.value, "created", 0, MAX_CREATED)
    start, end = _instant(seconds), _instant(seconds + 1)
    if op == ":":
        return Q(created__gte=start, created__lt=end)
    if op == ">":
        return Q(created__gte=end)
    if op == ">=":
        return Q(created__gte=start)
    if op == "<":
        return Q(created__lt=start)
    return Q(created__lt=end)  # <=


def _string_q(clause: Clause, spec: SearchSpec) -> tuple[Q, Q | None]:
    """The positive condition and, for negation, the condition "the field is absent"."""
    op, value = clause.operator, clause.value
    if op not in (":", "~"):
        raise SearchQueryError(
            f"{op} compares numbers; {clause.field} is a string field (use : or ~)",
            value.position - len(op),
        )
    text = value.text
    if len(text) > MAX_VALUE_LENGTH:
        raise SearchQueryError(f"a value has at most {MAX_VALUE_LENGTH} characters", value.position)
    is_null = op == ":" and not value.quoted and text == "null"
    if op == "~" and len(text) < MIN_SUBSTRING_LENGTH:
        raise SearchQueryError(
            f"a substring search needs at least {MIN_SUBSTRING_LENGTH} characters", value.position
        )
    if clause.field == "metadata":
        assert clause.key is not None  # the parser requires metadata['key']
        value_of_key = MetadataValue(clause.key)
        absent = Q(IsNull(value_of_key, True))
        if is_null:
            return absent, None
        found = Exact(value_of_key, text) if op == ":" else IContains(value_of_key, text)
        return Q(found), absent
    column, lowered, nullable = spec.strings[clause.field]
    operator = "exact" if op == ":" else "icontains"
    match = Q(**{f"{column}__{operator}": text.lower() if lowered else text})
    if not nullable:
        # stored lower-case where `lowered`, never null
        return (Q(pk__in=[]), None) if is_null else (match, None)
    absent = Q(**{f"{column}__isnull": True})
    if is_null:
        return absent, None
    return match, absent


def clause_to_q(clause: Clause, spec: SearchSpec = PAYMENT_INTENT_SEARCH) -> Q:
    if clause.field in spec.numeric:
        q = _numeric_q(clause)
        return ~q if clause.negated else q
    q, absent = _string_q(clause, spec)
    if not clause.negated:
        return q
    # NOT on a NULL is NULL in SQL: "not equal" must still match rows without the field.
    return ~q | absent if absent is not None else ~q


def search_query_to_q(query: str, spec: SearchSpec = PAYMENT_INTENT_SEARCH) -> Q:
    """The filter for a Stripe search `query` on the object `spec` describes (scope not
    included)."""
    parsed = parse_search_query(query, spec)
    combined: Q | None = None
    for clause in parsed.clauses:
        q = clause_to_q(clause, spec)
        if combined is None:
            combined = q
        elif parsed.conjunction == "AND":
            combined &= q
        else:
            combined |= q
    assert combined is not None
    return combined
