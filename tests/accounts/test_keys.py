"""The pure key helpers: the shape of a key, its lookup part and its hash."""

import hashlib

import pytest

from accounts.keys import KEY_PREFIXES, PREFIXES, hash_key, is_well_formed, key_generate, key_lookup
from accounts.models import ApiKey


def test_there_is_a_prefix_for_every_kind_in_each_mode():
    assert set(PREFIXES) == {(kind, live) for kind in ApiKey.Kind.values for live in (False, True)}


@pytest.mark.parametrize(
    "kind,livemode,prefix",
    [
        (ApiKey.Kind.SECRET, False, "sk_test_"),
        (ApiKey.Kind.SECRET, True, "sk_live_"),
        (ApiKey.Kind.PUBLISHABLE, False, "pk_test_"),
        (ApiKey.Kind.PUBLISHABLE, True, "pk_live_"),
    ],
)
def test_a_generated_key_has_its_prefix_and_32_random_characters(kind, livemode, prefix):
    raw = key_generate(kind=kind, livemode=livemode)
    assert raw.startswith(prefix)
    assert len(raw) == len(prefix) + 32
    assert raw[len(prefix) :].isalnum()
    assert is_well_formed(raw)
    assert key_lookup(raw) == raw[:16]


def test_two_generated_keys_differ():
    assert key_generate(kind="secret", livemode=False) != key_generate(
        kind="secret", livemode=False
    )


@pytest.mark.parametrize(
    "raw",
    ["", "sk_test_", "sk_test_1234567", "xk_test_" + "a" * 32, "sk_test_" + "a" * 121],
)
def test_what_cannot_be_a_key_is_not_well_formed(raw):
    assert not is_well_formed(raw)


def test_the_shortest_and_longest_plausible_keys_are_well_formed():
    assert is_well_formed("pk_live_12345678")
    assert is_well_formed("sk_test_" + "a" * 120)
    assert set(KEY_PREFIXES) == {"sk_test_", "sk_live_", "pk_test_", "pk_live_"}


def test_the_stored_hash_is_sha256_hex_of_the_raw_key():
    assert hash_key("sk_test_abc") == hashlib.sha256(b"sk_test_abc").hexdigest()
