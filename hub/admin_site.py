from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.urls import path, reverse, reverse_lazy

PARTNER_GROUPS = ("DERMS", "DACS")


class HubAdminSite(admin.AdminSite):
    site_header = "DERMS–DACS integration hub"
    site_title = "Integration hub"
    index_title = "Operations console"
    index_template = "admin/hub_index.html"
    # "View site": the console's front page, the hub has no other site. Only read in templates, where a lazy
    # URL is a str; the stub allows str only.
    site_url = reverse_lazy("admin:index")  # type: ignore[assignment]
    # Partner API tokens are secrets: they are issued with `manage.py partner_account`, never shown here,
    # whichever order the admin modules are imported in (DRF's registers them).
    hidden_models = frozenset({"authtoken.tokenproxy"})

    def register(
        self,
        model_or_iterable: type[Model] | Iterable[type[Model]],
        admin_class: type[admin.ModelAdmin] | None = None,
        **options: Any,
    ) -> None:
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else list(model_or_iterable)
        shown = [model for model in models if model._meta.label_lower not in self.hidden_models]
        if shown:
            super().register(shown, admin_class, **options)

    def has_permission(self, request) -> bool:
        """Partner system accounts never use the console, even if marked staff."""
        user = request.user
        if user.is_active and user.groups.filter(name__in=PARTNER_GROUPS).exists():
            return False
        return super().has_permission(request)

    def get_urls(self):
        from hub.admin.hospital import hospital_view
        from hub.admin.partners import partners_view
        from hub.admin.search import search_view

        own = [
            path("partners/", self.admin_view(lambda request: partners_view(self, request)), name="partners"),
            path("hospital/", self.admin_view(lambda request: hospital_view(self, request)), name="hospital"),
            path("search/", self.admin_view(lambda request: search_view(self, request)), name="search"),
        ]
        return own + super().get_urls()

    def index(self, request, extra_context=None):
        from hub.dashboard import dashboard

        extra = {"dashboard": dashboard(), **(extra_context or {})}
        return super().index(request, extra)

    def get_app_list(self, request, app_label=None):
        """The hub's section also lists the partners page, which is not a model."""
        apps = super().get_app_list(request, app_label)
        if not request.user.has_perm("hub.view_outboundcall"):
            return apps
        for app in apps:
            if app["app_label"] == "hub":
                app["models"].append(
                    {
                        "name": "Partners",
                        "object_name": "Partners",
                        "perms": {"view": True},
                        "admin_url": reverse("admin:partners"),
                        "add_url": None,
                        "view_only": True,
                    }
                )
                app["models"].sort(key=lambda m: m["name"])
        return apps


def permission_denied(request, exception=None):
    """The 403 page (handler403): in the console's look, with its menus, saying whose role stops here."""
    from django.contrib.admin import site
    from django.template.response import TemplateResponse

    from hub.admin.roles import ROLES, user_role

    context = {"title": "You cannot open this page", "exception": str(exception or "")}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        if site.has_permission(request):
            context.update(site.each_context(request))
        context["role"] = ROLES.get(user_role(user), "")
    response = TemplateResponse(request, "403.html", context, status=403)
    return response.render()
