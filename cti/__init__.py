"""cti: an event-sourced CTI/UC server, call control after ECMA-269 (CSTA).

Layout (specs/architecture.md): ``kernel`` (what every context builds on), one folder per
context (``calls``, ``accounts``), ``domain`` (their composition), ``site`` (the switch plan),
``store`` (the log), ``app`` (the single writer, log followers, wiring), ``api`` (requests,
replies, documents for every face), ``mqtt`` and ``csta`` (the faces), ``tools`` (the command
line).
"""
