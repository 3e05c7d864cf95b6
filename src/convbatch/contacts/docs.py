"""OpenAPI entries of the Conversation API contacts resource."""

from convbatch.api.openapi import CONVERSATION_PREFIX as P
from convbatch.api.openapi import MASK, PAGE, Operation
from convbatch.contacts.conflicts import ChannelProfileRequest, IdentityConflicts
from convbatch.contacts.merge import MergeRequest
from convbatch.contacts.schemas import Contact, ContactCreateRequest, ContactList, ContactPatch

OPERATIONS = [
    Operation("POST", f"{P}/contacts", "Create one contact", "Contacts (Conversation API)",
              ContactCreateRequest, Contact),
    Operation("GET", f"{P}/contacts", "Contacts of the project, a page at a time",
              "Contacts (Conversation API)", None, ContactList,
              query=(*PAGE, ("external_id", "Only contacts with this external id", False),
                     ("channel", "With identity: only contacts reachable there", False),
                     ("identity", "With channel: only contacts reachable there", False))),
    Operation("GET", f"{P}/contacts/{{contact_id}}", "One contact",
              "Contacts (Conversation API)", None, Contact),
    Operation("PATCH", f"{P}/contacts/{{contact_id}}", "Change a contact",
              "Contacts (Conversation API)", ContactPatch, Contact, query=MASK),
    Operation("DELETE", f"{P}/contacts/{{contact_id}}", "Delete a contact",
              "Contacts (Conversation API)"),
    Operation("POST", f"{P}/contacts/{{destination_id}}:merge", "Fold a contact into another",
              "Contacts (Conversation API)", MergeRequest, Contact,
              description="The destination gains the source's identities and channel "
              "priorities (and its values for fields it has empty); the source is deleted."),
    Operation("GET", f"{P}/contacts:identityConflicts", "Identities several contacts carry",
              "Contacts (Conversation API)", None, IdentityConflicts, query=PAGE),
    Operation("POST", f"{P}/contacts:getChannelProfile", "A recipient's channel profile",
              "Contacts (Conversation API)", ChannelProfileRequest, None,
              description="No channel convbatch drives keeps profiles: a known app gets 404.",
              responses={"404": "No profile is available"}),
]  # fmt: skip
