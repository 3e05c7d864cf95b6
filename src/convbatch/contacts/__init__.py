"""Contacts: a person's addresses on each channel, stored per project."""
