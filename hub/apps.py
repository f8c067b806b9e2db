from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Integration hub"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from hub.lookups import lookup_clear
        from hub.models import Lookup

        post_save.connect(lambda **kw: lookup_clear(), sender=Lookup, weak=False)
        post_delete.connect(lambda **kw: lookup_clear(), sender=Lookup, weak=False)


class HubAdminConfig(AdminConfig):
    default_site = "hub.admin_site.HubAdminSite"
