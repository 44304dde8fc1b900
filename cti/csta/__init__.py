"""CSTA Phase III (ECMA-285) BER codec and TCP framing.

Public API lives in :mod:`cti.csta.codec` and :mod:`cti.csta.framing`;
exceptions in :mod:`cti.csta.errors`.
"""
