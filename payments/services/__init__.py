"""Every write of payment methods, customers and refunds, plus what the intent services need to turn a
processor's answer into a charge. One module per sub-domain, re-exported here."""

from ..attempts import reconcile as attempts_reconcile
from ..rollup import roll_up as attempts_roll_up
from .charges import charge_outcome_for
from .customers import customer_create, customer_delete, customer_update
from .payment_methods import (
    card_tokens,
    is_magic_id,
    magic_card,
    payment_method_attach,
    payment_method_attach_locked,
    payment_method_create,
    payment_method_create_from_data,
    payment_method_detach,
    payment_method_keep_for_customer,
    payment_method_resolve,
    payment_method_update,
    raw_card_from_params,
    token_card,
    token_for,
)
from .refunds import (
    refund_cancel,
    refund_create,
    refund_resolve,
    refund_update,
    refunds_resolve_due,
)

__all__ = [
    "attempts_reconcile",
    "attempts_roll_up",
    "card_tokens",
    "charge_outcome_for",
    "customer_create",
    "customer_delete",
    "customer_update",
    "is_magic_id",
    "magic_card",
    "payment_method_attach",
    "payment_method_attach_locked",
    "payment_method_create",
    "payment_method_create_from_data",
    "payment_method_detach",
    "payment_method_keep_for_customer",
    "payment_method_resolve",
    "payment_method_update",
    "raw_card_from_params",
    "refund_cancel",
    "refund_create",
    "refund_resolve",
    "refund_update",
    "refunds_resolve_due",
    "token_card",
    "token_for",
]
