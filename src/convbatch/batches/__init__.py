"""Message batches: accept, validate, store, read status, cancel."""
