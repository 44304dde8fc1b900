"""Hand-written pyasn1 types for the supported ECMA-285 (CSTA Phase III) subset."""
