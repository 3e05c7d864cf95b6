"""The Conversation API subset the batch layer relies on, under /conversation."""
