"""Event-sourced CSTA (ECMA-269) call-control middleware.

Folders: ``domain`` (pure call model: ``services`` decide, ``evolve`` changes state),
``store`` (where events are stored), ``projections`` (read models rebuilt from the log),
``app`` (the single writer that runs commands and commits events).
"""
