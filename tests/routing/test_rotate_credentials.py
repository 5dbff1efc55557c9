"""Rotating the key that encrypts processor credentials, as an operator does it: a new key put
first in PROCESSOR_CREDENTIAL_KEYS, `manage.py processors_rotate_credentials`, the old key
removed — and the stripe connection's API key still decrypts."""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.core.management import call_command

from core import crypto
from routing.models import ProcessorConnection


def test_rotation_re_encrypts_every_credential_with_the_newest_key(client, settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PROCESSOR_CREDENTIAL_KEYS = [old]
    settings.WEBHOOK_ALLOWED_NETWORKS = ["93.184.215.0/24"]
    response = client.post(
        "/v1/processors",
        {
            "kind": "stripe",
            "name": "Stripe",
            "stripe": {"api_key": "sk_test_rotate_me_1234", "api_base": "https://93.184.215.14"},
        },
    )
    assert response.status_code == 200, response
    connection = ProcessorConnection.objects.get(id=response.json()["id"])
    before = connection.api_key_encrypted

    settings.PROCESSOR_CREDENTIAL_KEYS = [new, old]
    call_command("processors_rotate_credentials")
    assert "re-encrypted 1 credential" in capsys.readouterr().out

    settings.PROCESSOR_CREDENTIAL_KEYS = [new]  # the old key is gone
    connection.refresh_from_db()
    assert connection.api_key_encrypted != before
    assert crypto.decrypt(connection.api_key_encrypted) == "sk_test_rotate_me_1234"
    assert "sk_test_rotate_me_1234" not in connection.api_key_encrypted
