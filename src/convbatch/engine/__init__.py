"""The dispatch engine: claims due messages, sends them, records what happened."""
