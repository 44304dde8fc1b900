"""MQTT: our client (:mod:`cti.mqtt.client`), the topic contract (:mod:`cti.mqtt.topics`), the
embedded broker (:mod:`cti.mqtt.broker`) and the node's MQTT face (:mod:`cti.mqtt.face`).

Clients of the contract (phone_sim, ``cti request``, tests) use the client and the topics; only
``cti serve`` runs the face.
"""
