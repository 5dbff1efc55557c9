"""The PayMongo face (/paymongo/v1/) in the fuzz tests (tests/test_fuzz.py)."""

from __future__ import annotations

#: The face's resources that the service's models name otherwise: a payment is a charge (the
#: face shows `ch_X` as `pay_X` and takes either in its `{id}`, as the parameter says), a
#: webhook is a webhook endpoint (of the face's dialect). The fuzz tests put the real id of such
#: an object in an operation's `{id}` most of the time, found by its model's resource name.
RESOURCE_MODELS = {"payment": "charge", "webhook": "webhook_endpoint"}
PATH_PREFIX = "/paymongo/"


def resource_model(path: str, resource: str) -> str:
    """The model's resource name for a PayMongo path's resource (any other path's as it is)."""
    if path.startswith(PATH_PREFIX):
        return RESOURCE_MODELS.get(resource, resource)
    return resource
