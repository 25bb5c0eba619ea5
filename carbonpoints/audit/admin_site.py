"""The admin site of the operators: every ModelAdmin registered on it is audited.

Saves and deletions are recorded where Django's admin logs them (``log_addition``,
``log_change``, ``log_deletions``), and every admin action (approve, disable, rotate a key…) when
it runs, with the objects it was given. Mixed into each registered ModelAdmin, so an admin added
later is audited without remembering to.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .services import audit_record


class AuditedModelAdmin(admin.ModelAdmin):
    def log_addition(self, request, obj, message):
        audit_record(actor=request.user, action="admin.add", obj=obj, details={"change": message})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit_record(
            actor=request.user, action="admin.change", obj=obj, details={"change": message}
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit_record(actor=request.user, action="admin.delete", obj=obj)
        return super().log_deletions(request, queryset)

    def get_action(self, action: Any) -> Any:
        found = super().get_action(action)
        if found is None or found[1] == "delete_selected":  # deletions are recorded one by one
            return found
        func, name, description = found

        def audited(modeladmin, request, queryset):
            objects = [(obj.pk, str(obj)[:200]) for obj in queryset]
            response = func(modeladmin, request, queryset)
            audit_record(
                actor=request.user,
                action=f"admin.action.{name}",
                details={
                    "model": queryset.model._meta.label_lower,
                    "objects": [pk for pk, _ in objects],
                    "description": str(description),
                },
            )
            return response

        return audited, name, description


class AuditedAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedModelAdmin):
            admin_class = type(
                admin_class.__name__,
                (AuditedModelAdmin, admin_class),
                {
                    "__module__": admin_class.__module__,
                    "__doc__": admin_class.__doc__,
                },
            )
        return super().register(model_or_iterable, admin_class, **options)
