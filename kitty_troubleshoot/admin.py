"""Admin pieces shared by the apps."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit rows (sync runs, notifications, check runs): written by the system, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MerchantNamedAdmin(admin.ModelAdmin):
    """Rows that store a merchant id show the merchant by name and are found by it."""

    def get_queryset(self, request):
        from apps.checks.registry import account_directory

        return (
            super()
            .get_queryset(request)
            .annotate(merchant_name=account_directory().merchant_name_expression())
        )

    @admin.display(description="merchant", ordering="merchant_name")
    def merchant(self, obj) -> str:
        return getattr(obj, "merchant_name", None) or f"(merchant {obj.merchant_id}, deleted)"

    def get_search_results(self, request, queryset, search_term):
        from apps.checks.registry import account_directory

        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            named = account_directory().merchant_ids_named(search_term)
            if named:
                results = results | queryset.filter(merchant_id__in=named)
        return results, may_have_duplicates
