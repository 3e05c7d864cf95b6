"""Projects, access keys and bearer tokens."""
