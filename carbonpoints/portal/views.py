"""The citizen's portal: one page per part of the carbon account, read across earn, ledger and spend."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import carbon_account_summary, citizen_postings
from accounts.services import account_home_region_set
from carbonpoints.earn.exceptions import LinkRevoked, ScenesNotApproved, SubjectAlreadyLinked
from carbonpoints.earn.selectors import (
    actions_behind_credits,
    citizen_actions,
    citizen_link,
    citizen_links,
    consent_wording,
    explanation,
    linked_partner_ids,
    partner_active,
    partners_active,
    partners_linked,
    points_owed,
    reason_message,
    scene_titles,
)
from carbonpoints.earn.services import (
    identity_link_consent_change,
    identity_link_grant,
    identity_link_revoke,
)
from carbonpoints.evaluation.exceptions import NicknameTaken
from carbonpoints.evaluation.selectors import citizen_badges, leaderboard, leaderboard_entry
from carbonpoints.evaluation.services import leaderboard_join, leaderboard_leave
from carbonpoints.names import local_name
from carbonpoints.notifications.selectors import citizen_notifications, notification_text
from carbonpoints.notifications.services import notifications_mark_read
from carbonpoints.privacy.api.views import zip_response
from carbonpoints.privacy.exceptions import ExportNotFound, ExportNotReady, PasswordIncorrect
from carbonpoints.privacy.selectors import (
    citizen_data,
    citizen_export_document,
    citizen_export_latest,
    export_is_small,
)
from carbonpoints.privacy.services import account_delete, data_export_request
from redemption.selectors import citizen_donations, citizen_redemptions, qr_svg, voucher_state

from . import selectors
from .filters import ActionHistoryFilter
from .forms import (
    DeleteAccountForm,
    HomeRegionForm,
    LeaderboardForm,
    LedgerPeriodForm,
    LinkForm,
    ScenesForm,
)
from .templatetags.carbon import voucher_state_label

PAGE_SIZE = 20


def citizen_page(view):
    """Signed-in citizens only; anyone else sees why (merchant staff and operators have no carbon account)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        account = getattr(request.user, "carbon_account", None)
        if account is None:
            return render(request, "portal/not_a_citizen.html", status=403)
        return view(request, account, *args, **kwargs)

    return wrapper


def _page(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@citizen_page
def my_carbon(request, account):
    """Today's page: figures, the last 30 days as a chart, and the latest actions with why they counted."""
    summary = carbon_account_summary(account=account)
    series, by_region = selectors.daily_reductions_by_region(account_id=account.pk)
    recent = list(citizen_actions(account_id=account.pk)[:5])
    steps = selectors.first_steps(account_id=account.pk)
    return render(
        request,
        "portal/my_carbon.html",
        {
            "summary": summary,
            "points_owed": points_owed(account_id=account.pk),
            "today_g": series[-1][1],
            "month_g": sum(grams for _, grams in series),
            "chart": {"total": sum(grams for _, grams in series)},
            "chart_data": selectors.chart_series(
                series,
                label=_("CO2e credited"),
                total_g=summary["reduction_g"],
                growth_label=_("My account's reduction, growing"),
                by_region=by_region,
            ),
            "by_region": selectors.region_totals(by_region),
            "by_action": selectors.reductions_by_action(account_id=account.pk),
            "equivalents": selectors.equivalents(grams=summary["reduction_g"]),
            "rows": _with_reasons(recent),
            "nav": "home",
            "streak": selectors.streak_days(series),
            "first_steps": steps,
            "first_steps_left": sum(not step.done for step in steps),
            "next_voucher": selectors.next_voucher(points=summary["points"]["available"]),
        },
    )


def _with_reasons(records) -> list[tuple]:
    rows = []
    for record in records:
        record.reason_text = reason_message(record)
        rows.append((record, explanation(record)))
    return rows


@citizen_page
def actions(request, account):
    """Every action the partners reported for the citizen, filtered by type, state and time, a page at a time."""
    history = ActionHistoryFilter(
        request.GET or None, queryset=citizen_actions(account_id=account.pk)
    )
    records = (
        history.qs
        if history.is_bound and history.is_valid()
        else citizen_actions(account_id=account.pk)
    )
    page = _page(request, records)
    return render(
        request,
        "portal/actions.html",
        {
            "filter": history,
            "page": page,
            "query": _query_without_page(request),
            "rows": _with_reasons(page),
            "nav": "actions",
        },
    )


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@citizen_page
def ledger(request, account):
    """The points ledger: each movement with its running balance (newest first)."""
    period = LedgerPeriodForm(request.GET or None)
    since = until = None
    if period.is_valid():
        since = period.cleaned_data["since"] and _day_start(period.cleaned_data["since"])
        until = period.cleaned_data["until"] and _day_start(
            period.cleaned_data["until"] + timedelta(days=1)
        )
    postings = citizen_postings(account=account, unit="pt", since=since, until=until)
    page = _page(request, postings)
    behind = actions_behind_credits(
        account_id=account.pk, transactions=[p.transaction for p in page]
    )
    titles = scene_titles(
        codes={a.action for actions in behind.values() for a in actions}, local=True
    )
    behind = {
        t: [(a, titles.get(a.action, a.action)) for a in actions] for t, actions in behind.items()
    }
    return render(
        request,
        "portal/ledger.html",
        {
            "period": period,
            "page": page,
            "query": _query_without_page(request),
            "nav": "ledger",
            "summary": carbon_account_summary(account=account),
            "lines": [(posting, behind.get(posting.transaction_id, [])) for posting in page],
        },
    )


def _link_forms(account, bound_form=None, partner_id=None):
    """A form per active partner; the one the citizen just sent keeps its data and its errors."""
    linked = linked_partner_ids(account_id=account.pk)
    forms = []
    for partner in partners_active():
        form = (
            bound_form
            if bound_form is not None and partner.pk == partner_id
            else LinkForm(partner=partner)
        )
        forms.append(
            {
                "partner": partner,
                "form": form,
                "linked": partner.pk in linked,
                "wording": consent_wording(
                    partner=partner,
                    subject=_("(your member id)"),
                    scenes=partner.actions,
                    local=True,
                ),
                "scenes": scene_titles(codes=sorted(partner.actions), local=True),
            }
        )
    return forms


@citizen_page
def links(request, account):
    """Partner links: what is linked with consent to which scenes, a form per partner to link, change or revoke."""
    partner_id = form = None
    if request.method == "POST":
        partner_id = int(request.POST.get("partner_id") or 0)
        partner = partner_active(partner_id=partner_id)
        if partner is None:
            raise Http404
        form = LinkForm(request.POST, partner=partner)
        if form.is_valid():
            scenes, subject = form.cleaned_data["scenes"], form.cleaned_data["subject"]
            try:
                link, released = identity_link_grant(
                    account=account,
                    partner_id=partner.pk,
                    subject=subject,
                    scenes=scenes,
                    consent=True,
                    local_names=True,
                )
            except SubjectAlreadyLinked:
                form.add_error("subject", _("This member id is linked to another account."))
            except ScenesNotApproved:
                form.add_error("scenes", _("Choose one or more of the partner's scenes."))
            else:
                messages.success(
                    request,
                    _("Linked %(partner)s.") % {"partner": local_name(partner.name)}
                    + (
                        " " + _("%(n)s held actions are being credited.") % {"n": released}
                        if released
                        else ""
                    ),
                )
                return redirect("portal-links")
        messages.error(
            request,
            _("%(partner)s was not linked: see why in its form below.")
            % {"partner": local_name(partner.name)},
        )
    rows = [
        {
            "link": link,
            "form": ScenesForm(link=link),
            "titles": scene_titles(codes=link.scenes, local=True),
        }
        for link in citizen_links(account_id=account.pk)
    ]
    return render(
        request,
        "portal/links.html",
        {
            "links": rows,
            "partners": _link_forms(account, form, partner_id),
            "nav": "links",
        },
    )


def _my_link(account, link_id):
    link = citizen_link(account_id=account.pk, link_id=link_id)
    if link is None:
        raise Http404
    return link


@require_POST
@citizen_page
def link_scenes(request, account, link_id):
    link = _my_link(account, link_id)
    form = ScenesForm(request.POST, link=link)
    if not form.is_valid():
        messages.error(request, _("Choose one or more scenes and agree to the text."))
        return redirect("portal-links")
    scenes = form.cleaned_data["scenes"]
    try:
        link, _released = identity_link_consent_change(
            link=link, scenes=scenes, consent=True, local_names=True
        )
    except (ScenesNotApproved, LinkRevoked):
        messages.error(request, _("This link cannot be changed."))
    else:
        messages.success(
            request,
            _("Consent changed for %(partner)s.") % {"partner": local_name(link.partner.name)},
        )
    return redirect("portal-links")


@require_POST
@citizen_page
def link_revoke(request, account, link_id):
    link = identity_link_revoke(link=_my_link(account, link_id))
    messages.success(
        request,
        _("Link to %(partner)s revoked: nothing more is credited from it.")
        % {"partner": local_name(link.partner.name)},
    )
    return redirect("portal-links")


@citizen_page
def redemptions(request, account):
    """What the citizen redeemed: vouchers (as QR codes while valid) and donations with their certificates."""
    page = _page(request, citizen_redemptions(citizen=account))
    rows = []
    for redemption in page:
        voucher = getattr(redemption, "voucher", None)
        state = voucher_state(voucher) if voucher else redemption.status
        label = voucher_state_label(state) if voucher else redemption.get_status_display()
        rows.append(
            {
                "r": redemption,
                "voucher": voucher,
                "state": state,
                "state_label": label,
                "qr": qr_svg(voucher.code) if voucher and state == "valid" else "",
            }
        )
    return render(
        request, "portal/redemptions.html", {"page": page, "rows": rows, "nav": "redemptions"}
    )


@citizen_page
def certificates(request, account):
    """Donation certificates: each donation of points, with its public certificate page."""
    donations = citizen_donations(citizen=account)
    return render(
        request,
        "portal/certificates.html",
        {"page": _page(request, donations), "nav": "certificates"},
    )


@citizen_page
def account_page(request, account):
    """Export, deletion (what it keeps and why) and language."""
    export = citizen_export_latest(account=account)
    summary = carbon_account_summary(account=account)
    return render(
        request,
        "portal/account.html",
        {
            "export": export,
            "delete_form": DeleteAccountForm(),
            "nav": "account",
            "summary": summary,
            "region_form": HomeRegionForm(initial={"home_region": summary["home_region"]}),
        },
    )


@require_POST
@citizen_page
def account_region(request, account):
    """The citizen's home region: their leaderboard and the catalogue's default."""
    form = HomeRegionForm(request.POST)
    if form.is_valid():
        account_home_region_set(account=account, region=form.cleaned_data["home_region"])
        messages.success(request, _("Your home region is saved."))
    return redirect("portal-account")


@citizen_page
def export(request, account):
    """The ZIP of CSVs: at once when small, else a worker builds it and the account page shows progress."""
    if export_is_small(account=account):
        return zip_response(citizen_data(account=account))
    data_export_request(account=account)
    messages.info(
        request, _("Your export is large: it is being prepared. This page shows its progress.")
    )
    return redirect("portal-account")


@citizen_page
def export_download(request, account, export_id):
    try:
        document = citizen_export_document(account=account, export_id=export_id)
    except (ExportNotFound, ExportNotReady):
        raise Http404 from None
    return zip_response(document)


@require_POST
@citizen_page
def delete(request, account):
    form = DeleteAccountForm(request.POST)
    if form.is_valid():
        try:
            account_delete(user=request.user, password=form.cleaned_data["password"])
        except PasswordIncorrect:
            form.add_error("password", _("The password is not correct."))
        else:
            logout(request)
            return render(request, "portal/deleted.html")
    export = citizen_export_latest(account=account)
    return render(
        request,
        "portal/account.html",
        {
            "export": export,
            "delete_form": form,
            "nav": "account",
            "summary": carbon_account_summary(account=account),
            "region_form": HomeRegionForm(initial={"home_region": account.home_region_id}),
        },
        status=400,
    )


@citizen_page
def notifications(request, account):
    """The inbox: what happened to the citizen's actions, vouchers, level and exports; newest first."""
    page = _page(request, citizen_notifications(account_id=account.pk))
    return render(
        request,
        "portal/notifications.html",
        {
            "page": page,
            "rows": [(n, notification_text(n)) for n in page],
            "nav": "notifications",
        },
    )


@require_POST
@citizen_page
def notifications_read(request, account):
    ids = [int(pk) for pk in request.POST.getlist("id") if pk.isdigit()] or None
    notifications_mark_read(account=account, ids=ids)
    return redirect("portal-notifications")


@citizen_page
def evaluation(request, account):
    """The carbon-account evaluation: level by trailing-12-month reduction, badges, and the leaderboard."""
    form = LeaderboardForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("leave"):
            leaderboard_leave(account=account)
            return redirect("portal-evaluation")
        if form.is_valid():
            try:
                leaderboard_join(account=account, nickname=form.cleaned_data["nickname"])
            except NicknameTaken as taken:
                form.add_error("nickname", str(taken))
            else:
                return redirect("portal-evaluation")
    summary = carbon_account_summary(account=account)
    level = summary["level"]
    span = (level["next_min_g"] or 0) - level["min_g"]
    return render(
        request,
        "portal/evaluation.html",
        {
            "summary": summary,
            "badges": citizen_badges(account_id=account.pk),
            "progress": 100
            if not level["next_min_g"]
            else max(0, min(100, (level["trailing_12m_g"] - level["min_g"]) * 100 // max(span, 1))),
            "entry": leaderboard_entry(account_id=account.pk),
            "leaderboard": leaderboard(region=summary["home_region"]),
            "form": form,
            "nav": "evaluation",
        },
    )


@citizen_page
def claims(request, account):
    """Claims for missing records: file one (with evidence), follow the partner's answer."""
    from carbonpoints.claims.api.views import STATUS_MESSAGES
    from carbonpoints.claims.selectors import citizen_claims
    from carbonpoints.claims.services import claim_file
    from carbonpoints.errors import DomainError

    from .forms import ClaimForm

    linked = partners_linked(account_id=account.pk)
    actions = sorted({code for partner in linked for code in partner.actions})
    form = ClaimForm(request.POST or None, request.FILES or None, partners=linked, actions=actions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            claim_file(
                account=account,
                partner=data["partner"],
                action=data["action"],
                quantity=data["quantity"],
                occurred_at=data["occurred_at"],
                evidence=data["evidence"],
                note=data["note"],
                self_reported=data["self_reported"],
                region=data.get("region") or None,
            )
        except DomainError as refusal:
            form.add_error(None, str(refusal.message))
        else:
            messages.success(request, _("Your claim was filed."))
            return redirect("portal-claims")
    rows = [
        (claim, STATUS_MESSAGES[claim.status])
        for claim in citizen_claims(account_id=account.pk)[:100]
    ]
    titles = scene_titles(codes=sorted({claim.action for claim, _message in rows}), local=True)
    for claim, _message in rows:
        claim.action_title = titles[claim.action]
    return render(request, "portal/claims.html", {"form": form, "claims": rows, "nav": "claims"})
