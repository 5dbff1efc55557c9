"""The service's check of `payment_method_options`, whichever face calls it: `None` is no options,
a hash is checked, and anything else is refused, falsy or not (`""`, `[]`, `0` and `false` went
through as "no options" while `"x"` and `1` were refused)."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequestError
from intents.services._common import check_payment_method_options


@pytest.mark.parametrize("options", ["", [], 0, False, 0.0, "x", 1, ["card"], True])
def test_anything_but_a_hash_or_none_is_refused(options):
    with pytest.raises(InvalidRequestError) as info:
        check_payment_method_options(options)
    assert info.value.param == "payment_method_options"


@pytest.mark.parametrize(
    "options", [None, {}, {"card": None}, {"card": {}}, {"card": {"request_three_d_secure": "any"}}]
)
def test_none_and_hashes_it_can_honour_are_taken(options):
    check_payment_method_options(options)
