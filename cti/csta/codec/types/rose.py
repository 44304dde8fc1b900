"""ROSE PDUs (X.880 Remote-Operations-Generic-ROS-PDUs, IMPLICIT TAGS).

argument/result/parameter are open types (``ANY``): the codec decodes them in
a second step, by operation code, so that a bad argument can be told apart
from a bad PDU (mistypedArgument vs. badlyStructuredPDU)."""

from __future__ import annotations

from pyasn1.type import namedtype, univ

from cti.csta.codec.types.base import ctx, implicit

__all__ = ["ROS", "Code", "Invoke", "InvokeId", "Reject", "ReturnError", "ReturnResult"]

N = namedtype.NamedType
O = namedtype.OptionalNamedType  # noqa: E741 - reads like the ASN.1 keyword


class InvokeId(univ.Choice):
    componentType = namedtype.NamedTypes(N("present", univ.Integer()), N("absent", univ.Null()))


class Code(univ.Choice):
    componentType = namedtype.NamedTypes(
        N("local", univ.Integer()), N("global", univ.ObjectIdentifier())
    )


class _LinkedId(univ.Choice):
    componentType = namedtype.NamedTypes(
        N("present", implicit(univ.Integer(), 0)), N("absent", implicit(univ.Null(), 1))
    )


class Invoke(univ.Sequence):
    componentType = namedtype.NamedTypes(
        N("invokeId", InvokeId()),
        O("linkedId", _LinkedId()),
        N("opcode", Code()),
        O("argument", univ.Any()),
    )


class _Result(univ.Sequence):
    componentType = namedtype.NamedTypes(N("opcode", Code()), N("result", univ.Any()))


class ReturnResult(univ.Sequence):
    componentType = namedtype.NamedTypes(N("invokeId", InvokeId()), O("result", _Result()))


class ReturnError(univ.Sequence):
    componentType = namedtype.NamedTypes(
        N("invokeId", InvokeId()), N("errcode", Code()), O("parameter", univ.Any())
    )


class _Problem(univ.Choice):
    # GeneralProblem, InvokeProblem, ReturnResultProblem, ReturnErrorProblem:
    # INTEGERs with named numbers, see cti.csta.codec.REJECT_PROBLEMS.
    componentType = namedtype.NamedTypes(
        N("general", implicit(univ.Integer(), 0)),
        N("invoke", implicit(univ.Integer(), 1)),
        N("returnResult", implicit(univ.Integer(), 2)),
        N("returnError", implicit(univ.Integer(), 3)),
    )


class Reject(univ.Sequence):
    componentType = namedtype.NamedTypes(N("invokeId", InvokeId()), N("problem", _Problem()))


class ROS(univ.Choice):
    componentType = namedtype.NamedTypes(
        N("invoke", Invoke().subtype(implicitTag=ctx(1))),
        N("returnResult", ReturnResult().subtype(implicitTag=ctx(2))),
        N("returnError", ReturnError().subtype(implicitTag=ctx(3))),
        N("reject", Reject().subtype(implicitTag=ctx(4))),
    )
