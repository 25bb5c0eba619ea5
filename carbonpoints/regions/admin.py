"""Operators' page for regions (reference data, GB/T 2260), and what scopes every other operator
page to the operator's regions (``RegionScopedAdmin``)."""

from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, PermissionDenied

from .authority import has_authority, in_scope, operator_regions
from .models import Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "parent"]
    list_filter = ["parent"]
    search_fields = ["code", "name_zh", "name_en"]

    def has_delete_permission(self, request, obj=None):
        return False


class RegionScopedAdmin(admin.ModelAdmin):
    """An admin page that shows a city's operator their regions' objects only (``region_path``: the
    region of a row, e.g. ``"merchant__region"``); another region's object answers 403. The region
    fields offer the operator's regions only. A provincial operator (no region named) sees all."""

    region_path = "region"
    region_through_many = False  # the path crosses a to-many relation: rows are made distinct
    region_unplaced = False  # a row with no region there is every operator's (``in_scope``)

    def get_queryset(self, request):
        return self.scoped(request, super().get_queryset(request))

    def scoped(self, request, queryset):
        """``queryset`` cut to the operator's regions (for a page that builds its own)."""
        condition = in_scope(request.user, self.region_path, unplaced=self.region_unplaced)
        if condition is None:
            return queryset
        queryset = queryset.filter(condition)
        many = self.region_through_many or self.region_path.split("__")[-1] == "regions"
        return queryset.distinct() if many else queryset

    def get_list_filter(self, request):
        """A city's operator's filters offer what their rows point at only (no other city's
        partner, merchant or sponsor named in a filter)."""
        filters = super().get_list_filter(request)
        if operator_regions(request.user) is None:
            return filters
        return [self._related_only(entry) for entry in filters]

    def _related_only(self, entry):
        if not isinstance(entry, str):
            return entry
        try:
            field = get_fields_from_path(self.model, entry)[-1]
        except (FieldDoesNotExist, NotRelationField):
            return entry
        return (entry, admin.RelatedOnlyFieldListFilter) if field.is_relation else entry

    def get_object(self, request, object_id, from_field=None):
        found = super().get_object(request, object_id, from_field)
        if found is None and operator_regions(request.user) is not None:
            raise PermissionDenied  # not in the operator's regions (or not there at all)
        return found

    def _regions_field(self, db_field, request, kwargs) -> None:
        """A city's operator names one of their regions: left empty, the row would fall in the
        default region, which may not be theirs."""
        scope = operator_regions(request.user)
        if db_field.related_model is Region and scope is not None:
            kwargs["queryset"] = Region.objects.filter(code__in=scope)
            kwargs["required"] = True

    def has_change_permission(self, request, obj=None):
        """A row of several regions (a partner's) is changed only by an operator of every one of
        them: another sees it read-only (the form could not keep the regions it does not offer)."""
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or self.region_path != "regions" or operator_regions(request.user) is None:
            return True
        return all(
            has_authority(request.user, code) for code in obj.regions.values_list("code", flat=True)
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._regions_field(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._regions_field(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
