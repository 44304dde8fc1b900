"""Application layer: the single writer of a node (decide -> append -> apply) and its clock."""
