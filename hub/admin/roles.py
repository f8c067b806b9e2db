"""The console's roles: `Business users` read, `Support` also act and edit lookups.

The data migration grants them once; the same grant runs after every
`migrate`, so the models of a flow added later are readable by both groups
without a migration of their own. A console user has one role at most
(user_role_set), never mixed with the partner groups DERMS and DACS.
"""

from __future__ import annotations

from django.db.models.signals import post_migrate

from hub.admin_site import PARTNER_GROUPS
from hub.registry import flow_apps

BUSINESS = "Business users"
SUPPORT = "Support"
# The role names people type (`manage.py console_user --role`) and the groups they stand for.
ROLES = {"business": BUSINESS, "support": SUPPORT}
ROLE_LABELS = {
    "business": "Business user: reads every record, message, call and email",
    "support": "Support: also resubmits, discards, tests connections, sends emails again and edits lookups",
}
# Accounts, partner tokens and sessions are not the console's to show.
HIDDEN_APPS = ("auth", "authtoken", "sessions", "contenttypes", "admin")
SUPPORT_EXTRA = (
    ("hub", "resubmit_message"),
    ("hub", "discard_message"),
    ("hub", "test_connection"),
    ("hub", "resend_notification"),
    ("hub", "add_lookup"),
    ("hub", "change_lookup"),
    ("hub", "delete_lookup"),
)


def roles_grant(*, Group, Permission) -> None:  # noqa: N803  (historical models are passed in by migrations)
    # Emptied tables (a flush between tests) lose the groups made by migrations: make them again.
    for name in PARTNER_GROUPS:
        Group.objects.get_or_create(name=name)
    business, _ = Group.objects.get_or_create(name=BUSINESS)
    support, _ = Group.objects.get_or_create(name=SUPPORT)
    views = list(
        Permission.objects.filter(codename__startswith="view_").exclude(content_type__app_label__in=HIDDEN_APPS)
    )
    flows_extra = [(app.label, codename) for app in flow_apps() for codename in app.support_permissions]
    extra = [
        perm
        for app_label, codename in (*SUPPORT_EXTRA, *flows_extra)
        for perm in Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    ]
    business.permissions.add(*views)
    support.permissions.add(*views, *extra)


class RoleError(ValueError):
    """A role that does not exist, or a user who cannot take one."""


def user_role(user) -> str:
    """The user's console role ("business", "support"), or "" for none."""
    names = {group.name for group in user.groups.all()}
    return next((role for role, group in ROLES.items() if group in names), "")


def user_role_set(*, user, role: str) -> None:
    """Give a saved user exactly one console role ("" takes it away); a role makes the user staff.

    Partner system accounts (DERMS, DACS groups) never use the console, so they take no role.
    """
    from django.contrib.auth.models import Group

    if role and role not in ROLES:
        raise RoleError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    partner = user.groups.filter(name__in=PARTNER_GROUPS).values_list("name", flat=True).first()
    if role and partner:
        raise RoleError(
            f"{user.get_username()} is the {partner} partner account; partner accounts cannot use the console."
        )
    user.groups.remove(*Group.objects.filter(name__in=ROLES.values()).exclude(name=ROLES.get(role)))
    if role:
        user.groups.add(Group.objects.get(name=ROLES[role]))
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])


def _after_migrate(sender, **kwargs) -> None:
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    # This receiver may run before auth's own for the same app: make sure its permissions exist.
    create_permissions(sender, verbosity=0, using=kwargs.get("using", "default"))
    roles_grant(Group=Group, Permission=Permission)


post_migrate.connect(_after_migrate, dispatch_uid="hub-console-roles")
