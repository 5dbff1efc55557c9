"""Processor credentials at rest: encrypted with the newest key, any configured key decrypts,
rotate moves a token to the newest key, and nothing else opens."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from core.crypto import CredentialError, decrypt, encrypt, rotate

SECRET = "sk_test_upstream_51Habc"
OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def test_a_secret_comes_back_and_is_not_in_its_token(settings):
    settings.PROCESSOR_CREDENTIAL_KEYS = [NEW]
    token = encrypt(SECRET)
    assert SECRET not in token and token.isascii()
    assert decrypt(token) == SECRET
    assert encrypt(SECRET) != token  # a random IV each time


def test_with_no_key_configured_one_is_derived_from_the_secret_key(settings):
    settings.PROCESSOR_CREDENTIAL_KEYS = []
    token = encrypt(SECRET)
    assert decrypt(token) == SECRET
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(CredentialError):
        decrypt(token)


def test_any_configured_key_decrypts_and_rotate_moves_a_token_to_the_newest(settings):
    settings.PROCESSOR_CREDENTIAL_KEYS = [OLD]
    old_token = encrypt(SECRET)

    settings.PROCESSOR_CREDENTIAL_KEYS = [NEW, OLD]  # a new key put first
    assert decrypt(old_token) == SECRET
    new_token = rotate(old_token)
    assert new_token != old_token
    assert decrypt(new_token) == SECRET
    assert decrypt(encrypt(SECRET)) == SECRET

    settings.PROCESSOR_CREDENTIAL_KEYS = [NEW]  # the old key dropped
    assert decrypt(new_token) == SECRET
    with pytest.raises(CredentialError):
        decrypt(old_token)
    with pytest.raises(CredentialError):
        rotate(old_token)


@pytest.mark.parametrize("token", ["", "not-a-token", "gAAAAABnope", "é" * 10])
def test_anything_but_a_token_of_ours_is_a_credential_error(settings, token):
    settings.PROCESSOR_CREDENTIAL_KEYS = [NEW]
    with pytest.raises(CredentialError, match="PROCESSOR_CREDENTIAL_KEYS"):
        decrypt(token)


def test_an_altered_token_is_refused(settings):
    settings.PROCESSOR_CREDENTIAL_KEYS = [NEW]
    token = encrypt(SECRET)
    altered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(CredentialError):
        decrypt(altered)


def test_a_configured_key_that_is_not_a_fernet_key_is_named_but_not_shown(settings):
    settings.PROCESSOR_CREDENTIAL_KEYS = [NEW, "short-key-xyz"]
    with pytest.raises(ImproperlyConfigured, match=r"PROCESSOR_CREDENTIAL_KEYS\[1\]") as info:
        encrypt(SECRET)
    assert "short-key-xyz" not in str(info.value)
