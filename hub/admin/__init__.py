"""The operations console in the Django admin: the audit trail, its actions, lookups and roles."""

from django.contrib import admin
from rest_framework.authtoken.models import TokenProxy

from hub.admin import audit, messages, people, roles  # noqa: F401  (registers the pages and the roles)

# Partner API tokens are secrets: they are issued with `manage.py partner_account`, never shown here.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
