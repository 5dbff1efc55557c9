"""Typed domain errors of routing/ (the one exception handler in api/ gives each its status)."""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import InvalidRequestError, for_object


class ProcessorInUse(InvalidRequestError):
    """A connection a payment flow names cannot be deleted (disable it, or change the flows):
    a refusal for what is stored (`core.errors.FOR_OBJECT`)."""

    code = for_object("resource_in_use")

    def __init__(self, connection_id: str, flow_ids: Iterable[str]) -> None:
        flows = ", ".join(sorted(flow_ids))
        super().__init__(
            f"The processor {connection_id} cannot be deleted: the payment flows {flows} name "
            "it. Remove it from those flows first, or disable it instead "
            "(`status=disabled`).",
            param="id",
        )


class BuiltinProcessor(InvalidRequestError):
    """The built-in simulated connection of a mode can be disabled, never deleted: a refusal for
    what is stored (`core.errors.FOR_OBJECT`)."""

    code = for_object("processor_builtin")

    def __init__(self, connection_id: str) -> None:
        super().__init__(
            f"The processor {connection_id} is the account's built-in simulated processor: it "
            "cannot be deleted (disable it instead, `status=disabled`).",
            param="id",
        )


class ProcessorKindMismatch(InvalidRequestError):
    """`simulated[…]` on a `stripe` connection, or `stripe[…]` on a simulated one; on an update,
    a refusal for the stored connection's kind (`core.errors.FOR_OBJECT`)."""

    code = "parameter_unknown"

    def __init__(self, param: str, kind: str, *, stored: bool = False) -> None:
        super().__init__(
            f"Received unknown parameter: {param} (only for processors of kind "
            f"`{param}`; this one is `{kind}`).",
            param=param,
        )
        if stored:
            self.code = for_object(self.code)


class ProcessorMissing(InvalidRequestError):
    """A flow names a connection that is not (or no longer) one of the scope's."""

    code = "resource_missing"

    def __init__(self, connection_id: str, param: str) -> None:
        super().__init__(f"No such processor: '{connection_id}'", param=param)


class DefaultFlowContention(InvalidRequestError):
    """Too many requests made a flow the default at the same moment: nothing was changed, and
    the same request may be retried as it is."""

    code = "lock_timeout"
    retryable = True

    def __init__(self) -> None:
        super().__init__(
            "Other requests changed this account's default payment flow at the same moment. "
            "Nothing was changed; retry the request.",
            param="default",
        )
