"""CSTA Phase III (ECMA-285) for integrators: the ASN.1/BER codec (:mod:`cti.csta.codec`), the
link that serves CTI applications over TCP (:mod:`cti.csta.link`) and a client application
(:mod:`cti.csta.client`). Identifiers (:mod:`cti.csta.ids`) and the refusal table
(:mod:`cti.csta.refusals`) are shared by link and client. See specs/csta.md.
"""
