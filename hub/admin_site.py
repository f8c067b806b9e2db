from django.contrib import admin

PARTNER_GROUPS = ("DERMS", "DACS")


class HubAdminSite(admin.AdminSite):
    site_header = "DERMS–DACS integration hub"
    site_title = "Integration hub"
    index_title = "Operations console"

    def has_permission(self, request) -> bool:
        """Partner system accounts never use the console, even if marked staff."""
        user = request.user
        if user.is_active and user.groups.filter(name__in=PARTNER_GROUPS).exists():
            return False
        return super().has_permission(request)
