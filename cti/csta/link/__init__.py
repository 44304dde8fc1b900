"""The CSTA link in ``cti serve``: a TCP server (:mod:`server`) with one :mod:`session` per
connection (association, ROSE), the services an application may invoke (:mod:`services`), its
device monitors (:mod:`monitors`) and the event reports sent to them (:mod:`reports`)."""
