"""Key authentication: `Authorization: Bearer <key>` or HTTP Basic with the key as user name.

The key decides the account and the mode. Secret keys reach everything; publishable keys only
the views that say `allow_publishable = True` (which then demand a client secret themselves).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from accounts.keys import KEY_PREFIXES
from accounts.models import Account, ApiKey
from accounts.selectors import api_key_for_raw
from accounts.services import api_key_touch
from core.scope import Scope

from .errors import AuthenticationError
from .errors import SecretKeyRequired as SecretKeyRequiredError


@dataclass(frozen=True)
class Caller:
    """Who is calling: the account, the mode and the kind of key. `request.user` in every view."""

    key: ApiKey
    account: Account
    livemode: bool

    is_authenticated = True
    is_anonymous = False

    @property
    def is_secret(self) -> bool:
        return self.key.is_secret

    @property
    def account_id(self) -> str:
        return self.account.id

    @property
    def scope(self) -> Scope:
        """The account and mode every selector and service of this request is confined to."""
        return Scope(account_id=self.account.id, livemode=self.livemode)


def _mask(raw: str) -> str:
    return raw[:8] + "*" * 8 + raw[-4:] if len(raw) > 12 else "***"


def raw_key_from_header(header: str) -> str:
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return credentials
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError(
                "Invalid Authorization header: the Basic credentials are not valid base64. "
                "Use your API key as the user name and an empty password."
            )
        return decoded.partition(":")[0]
    raise AuthenticationError(
        "Invalid Authorization header. Use `Authorization: Bearer sk_test_…` or HTTP Basic "
        "with your API key as the user name."
    )


class KeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.strip():
            raise AuthenticationError(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
            )
        raw = raw_key_from_header(header)
        if not raw.startswith(KEY_PREFIXES):
            raise AuthenticationError(
                f"Invalid API Key provided: {_mask(raw)}. Keys start with sk_test_, sk_live_, "
                "pk_test_ or pk_live_."
            )
        key = api_key_for_raw(raw)
        if key is None:
            raise AuthenticationError(f"Invalid API Key provided: {_mask(raw)}")
        if not key.is_active:
            raise AuthenticationError(f"This API key has been revoked: {_mask(raw)}")
        api_key_touch(key=key)
        return Caller(key=key, account=key.account, livemode=key.livemode), key

    def authenticate_header(self, request):
        return 'Bearer realm="payintents"'


class SecretKeyRequired(BasePermission):
    def has_permission(self, request, view) -> bool:
        caller = request.user
        if not isinstance(caller, Caller):
            raise AuthenticationError("You did not provide an API key.")
        if caller.is_secret or getattr(view, "allow_publishable", False):
            return True
        raise SecretKeyRequiredError(
            "This API call cannot be made with a publishable API key. Please use a secret API key."
        )
