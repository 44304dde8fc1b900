"""Codec exceptions. The ROSE-level ones carry what a server needs to answer
with the right Reject (see :meth:`CodecError.reject_problem`)."""

from __future__ import annotations

__all__ = [
    "CodecError",
    "FramingError",
    "MistypedArgument",
    "MistypedParameter",
    "MistypedResult",
    "UnknownOperation",
    "UnrecognizedError",
    "UnrecognizedPDU",
]


class CodecError(Exception):
    """Anything that cannot be encoded or decoded. At the ROSE level it means
    the PDU itself is unusable: reject with no invoke id."""

    invoke_id: int | None = None
    problem: tuple[str, str] = ("general", "badlyStructuredPDU")


class UnrecognizedPDU(CodecError):
    """Outer tag is not a ROSE (or ACSE) APDU."""

    problem = ("general", "unrecognizedPDU")


class _InvokeError(CodecError):
    def __init__(self, invoke_id: int, detail: str = "") -> None:
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"invoke {invoke_id}: {self.problem[1]}{suffix}")
        self.invoke_id = invoke_id


class UnknownOperation(_InvokeError):
    """Invoke (or ReturnResult) with an operation code outside the supported set."""

    problem = ("invoke", "unrecognizedOperation")

    def __init__(self, invoke_id: int, opcode: int | str) -> None:
        super().__init__(invoke_id, f"opcode {opcode}")
        self.opcode = opcode


class UnrecognizedInvocation(_InvokeError):
    """ReturnResult / ReturnError whose invoke id names no invoke of ours awaiting an answer."""

    def __init__(self, invoke_id: int, kind: str) -> None:
        super().__init__(invoke_id, f"{kind} for invoke {invoke_id}, which is not outstanding")
        self.problem = (kind, "unrecognizedInvocation")


class MistypedArgument(_InvokeError):
    problem = ("invoke", "mistypedArgument")


class MistypedResult(_InvokeError):
    problem = ("returnResult", "mistypedResult")


class MistypedParameter(_InvokeError):
    problem = ("returnError", "mistypedParameter")


class UnrecognizedError(_InvokeError):
    problem = ("returnError", "unrecognizedError")


class FramingError(Exception):
    """Broken TCP framing: the stream cannot be resynchronised, close it."""
