from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import LedgerAccount, LedgerCheckRun, LedgerTransaction, Posting


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """The ledger is append-only: operators look, the services write."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PostingInline(admin.TabularInline[Posting, Any]):
    model = Posting
    fields = readonly_fields = ("account", "unit", "amount", "balance_after")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "owner_id", "unit", "balance", "allow_negative", "created_at"]
    list_filter = ["kind", "unit", "allow_negative"]
    search_fields = ["kind", "owner_id"]


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "reference", "memo", "corrects", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["reference", "idempotency_key", "memo"]
    date_hierarchy = "created_at"
    inlines = [PostingInline]
    raw_id_fields = ["corrects"]


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ["id", "transaction", "account", "unit", "amount", "balance_after", "created_at"]
    list_filter = ["unit", "account__kind"]
    search_fields = ["transaction__reference"]
    list_select_related = ["transaction", "account"]
    raw_id_fields = ["transaction", "account"]


@admin.register(LedgerCheckRun)
class LedgerCheckRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "finished_at", "ok", "accounts_checked", "transactions_checked"]
    list_filter = ["ok"]
