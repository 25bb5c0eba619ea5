from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.selectors import carbon_account_summary
from carbonpoints.earn.selectors import citizen_actions, explanation

from . import selectors


@login_required
def my_carbon(request):
    """The citizen's home: figures, the last 30 days as a chart, and why each action counted."""
    account = getattr(request.user, "carbon_account", None)
    if account is None:
        return render(request, "portal/not_a_citizen.html", status=403)
    summary = carbon_account_summary(account=account)
    recent = list(citizen_actions(account_id=account.pk)[:20])
    return render(request, "portal/my_carbon.html", {
        "summary": summary,
        "chart": selectors.bar_chart(selectors.daily_reductions(account_id=account.pk)),
        "by_action": selectors.reductions_by_action(account_id=account.pk),
        "equivalents": selectors.equivalents(grams=summary["reduction_g"]),
        "recent": [(record, explanation(record)) for record in recent],
    })
