"""Conversation apps: channels, the driver behind each channel, and their settings."""
