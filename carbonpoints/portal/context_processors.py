from django.utils.functional import SimpleLazyObject


def unread_notifications(request) -> dict:
    """The navigation's unread badge; counted only when a page draws the citizen's navigation."""

    def count() -> int:
        from carbonpoints.notifications.selectors import unread_count

        account = getattr(getattr(request, "user", None), "carbon_account", None)
        return unread_count(account_id=account.pk) if account is not None else 0

    return {"unread_notifications": SimpleLazyObject(count)}
