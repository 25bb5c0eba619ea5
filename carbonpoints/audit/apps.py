from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    default = True
    name = "carbonpoints.audit"
    label = "audit"
    verbose_name = _("Audit trail")
    default_auto_field = "django.db.models.BigAutoField"


class AuditedAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on a site that records every operator's save, deletion and action."""

    default = False
    default_site = "carbonpoints.audit.admin_site.AuditedAdminSite"
