"""The operations console in the Django admin: the audit trail, its actions, lookups and roles."""

from hub.admin import audit, messages, people, roles  # noqa: F401  (registers the pages and the roles)

# Partner API tokens are never shown here: see HubAdminSite.hidden_models.
