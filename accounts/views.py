from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import carbon_account_summary


@login_required
def my_account(request):
    account = getattr(request.user, "carbon_account", None)
    summary = carbon_account_summary(account=account) if account else None
    return render(request, "accounts/my_account.html", {"summary": summary})
