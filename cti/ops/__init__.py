"""What operators run the node with: the HTTP endpoint (``/healthz``, ``/metrics``), the
metrics and the free-disk watch (specs/operations.md). Adapters only: they read the running
node's parts and never decide anything."""
