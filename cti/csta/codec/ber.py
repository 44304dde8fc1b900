"""The BER encoder of the CSTA codec: pyasn1's, except that BOOLEAN TRUE is the octet 0xFF.

X.690 lets BER write TRUE as any non-zero octet and pyasn1 writes 0x01; HiPath / OpenScape
switches, and DER and CER, write 0xFF, and applications written against those switches may
compare the octet. The compiled encoder (:mod:`fast_ber`) writes the same bytes.
"""

from __future__ import annotations

from typing import Any

from pyasn1.codec.ber import encoder as ber_encoder
from pyasn1.codec.cer import encoder as cer_encoder
from pyasn1.type import univ

BooleanEncoder = cer_encoder.BooleanEncoder  # TRUE as 0xFF
TAG_MAP: dict[Any, Any] = {**ber_encoder.TAG_MAP, univ.Boolean.tagSet: BooleanEncoder()}
TYPE_MAP: dict[Any, Any] = {**ber_encoder.TYPE_MAP, univ.Boolean.typeId: BooleanEncoder()}
encode = ber_encoder.Encoder(TAG_MAP, TYPE_MAP)
