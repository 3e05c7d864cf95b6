"""Reading messages: the Conversation API's view of the engine's per-recipient ledger."""
