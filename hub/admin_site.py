from django.contrib import admin
from django.urls import path, reverse

PARTNER_GROUPS = ("DERMS", "DACS")


class HubAdminSite(admin.AdminSite):
    site_header = "DERMS–DACS integration hub"
    site_title = "Integration hub"
    index_title = "Operations console"
    index_template = "admin/hub_index.html"

    def has_permission(self, request) -> bool:
        """Partner system accounts never use the console, even if marked staff."""
        user = request.user
        if user.is_active and user.groups.filter(name__in=PARTNER_GROUPS).exists():
            return False
        return super().has_permission(request)

    def get_urls(self):
        from hub.admin.partners import partners_view
        from hub.admin.search import search_view

        own = [
            path("partners/", self.admin_view(lambda request: partners_view(self, request)), name="partners"),
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
