"""The users page: a console user's role is one choice, apart from the partner system accounts.

Roles are the groups `Business users` and `Support` (hub.admin.roles); partner
accounts (groups DERMS, DACS) are made with `manage.py partner_account` and are
shown here, never chosen here. Only superusers see this page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from hub.admin.roles import ROLE_LABELS, ROLES, user_role, user_role_set
from hub.admin_site import PARTNER_GROUPS

User = get_user_model()
RESERVED_GROUPS = (*ROLES.values(), *PARTNER_GROUPS)


def partner_of(user) -> str:
    """The partner system the account acts for ("" for none), read from its (prefetched) groups."""
    return next((group.name for group in user.groups.all() if group.name in PARTNER_GROUPS), "") if user.pk else ""


def role_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Console role",
        choices=[("", "No role: cannot see the console's pages"), *ROLE_LABELS.items()],
        required=False,
        widget=forms.RadioSelect,
        help_text="A role makes the user staff. Partner system accounts take no role.",
    )


class RoleMixin(forms.ModelForm):
    role = role_field()

    def clean_role(self) -> str:
        role = self.cleaned_data.get("role", "")
        if role and (partner := partner_of(self.instance)):
            raise forms.ValidationError(
                f"This is the {partner} partner account; partner accounts cannot use the console."
            )
        return role


class ConsoleUserChangeForm(RoleMixin, UserChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].initial = user_role(self.instance)
        if isinstance(groups := self.fields.get("groups"), forms.ModelMultipleChoiceField):
            groups.queryset = Group.objects.exclude(name__in=RESERVED_GROUPS)
            self.fields["groups"].label = "Other groups"
            self.fields["groups"].help_text = "Roles and partner systems are not chosen here."


class ConsoleUserCreationForm(RoleMixin, AdminUserCreationForm):
    pass


class ConsoleUserAdmin(UserAdmin):
    form = ConsoleUserChangeForm
    add_form = ConsoleUserCreationForm
    list_display = ("username", "role_shown", "email", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    readonly_fields = ("partner_system", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        ("Console access", {"fields": ("is_active", "role", "is_staff", "is_superuser")}),
        ("Partner system", {"fields": ("partner_system",)}),
        ("Other groups and permissions", {"classes": ("collapse",), "fields": ("groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2", "role")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="console role")
    def role_shown(self, obj) -> str:
        role = user_role(obj)
        if role:
            return ROLES[role]
        partner = partner_of(obj)
        return f"{partner} partner account" if partner else "—"

    @admin.display(description="partner system")
    def partner_system(self, obj) -> str:
        partner = partner_of(obj)
        if partner:
            return f"{partner}: this account calls the hub's API; it is managed with manage.py partner_account."
        return "None: not a partner system account."

    def save_related(self, request, form, formsets, change):
        # The form's groups leave out roles and partner systems: keep the partner system, set the role.
        kept = list(form.instance.groups.filter(name__in=PARTNER_GROUPS)) if change else []
        super().save_related(request, form, formsets, change)
        form.instance.groups.add(*kept)
        user_role_set(user=form.instance, role=form.cleaned_data.get("role", ""))


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ConsoleUserAdmin)


class SenderAccount(admin.ModelAdmin):
    """A message's "Sender user": a link to the account's page only for those who may open it, else its name."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        users = self.admin_site._registry.get(User)
        if users is not None and users.has_view_permission(request):
            return fieldsets
        return [
            (
                name,
                {**options, "fields": tuple("sender_account" if f == "sender_user" else f for f in options["fields"])},
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "sender_account")

    @admin.display(description="sender user")
    def sender_account(self, obj) -> str:
        return obj.sender_user.get_username() if obj.sender_user_id else "—"
