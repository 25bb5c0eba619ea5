"""The merchant console (server-rendered, for a tablet at the till) and public certificate pages."""

import csv
import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbonpoints.csv_cells import csv_cell
from carbonpoints.names import local_name
from carbonpoints.regions import codes
from carbonpoints.units import mass, yuan

from . import offsets, selectors, services
from .api.throttling import WRONG_CODE_THROTTLES
from .exceptions import InsufficientPoints, SpendRefused
from .forms import CheckoutForm, OffsetForm, ScenarioForm, StaffForm, VoucherConsumeForm
from .idempotency import idempotent_answer
from .statements import statement_download


def console(manager: bool = False):
    """Signed-in staff of an approved merchant (a manager when asked); ``request.staff`` is set."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            staff = selectors.staff_of(request.user)
            if staff is None:
                raise PermissionDenied(_("Only merchant staff may use the console."))
            if not staff.merchant.is_approved:
                return render(request, "redemption/not_approved.html", {"staff": staff}, status=403)
            if manager and not staff.is_manager:
                raise PermissionDenied(_("Only a manager may do this."))
            request.staff = staff
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _refused(request, refusal: SpendRefused) -> None:
    """A refusal in the reader's words, styled as an error; its code stays in the API's answers."""
    messages.error(request, str(refusal))


def _wrong_codes_refused(request) -> bool:
    """The till's wrong-code limits (the API's, per staff member and per merchant) are reached:
    say so and refuse. Guessing codes through the console is throttled like through the API."""
    waits = [
        t.wait()
        for t in (cls() for cls in WRONG_CODE_THROTTLES)
        if not t.allow_request(request, None)
    ]
    if waits:
        messages.error(
            request,
            _("Too many wrong codes: try again in %(seconds)s s.")
            % {"seconds": int(max(w or 0 for w in waits)) + 1},
        )
    return bool(waits)


def _wrong_code_record(request) -> None:
    for cls in WRONG_CODE_THROTTLES:
        cls().failure_record(request, None)


@console()
def till(request):
    """The till: consume a voucher, take points as part-payment, reverse a recent checkout."""
    return _till_page(request)


def _till_page(request, capped: dict | None = None):
    return render(
        request,
        "redemption/till.html",
        {
            "staff": request.staff,
            "consume_form": VoucherConsumeForm(),
            "checkout_form": CheckoutForm(),
            "checkouts": selectors.merchant_checkouts(merchant=request.staff.merchant)[:10],
            "has_offset_scenario": selectors.merchant_has_live_offset_scenario(
                merchant=request.staff.merchant
            ),
            "capped": capped,
        },
    )


def _capped_quote(request, form: CheckoutForm) -> dict | None:
    """When fewer points can pay than the cashier typed, what can: shown for the cashier to confirm.

    Points pay at most the scenario's share of the price; asking for more is not silently cut down.
    """
    if request.POST.get("confirmed"):
        return None
    scenario = selectors.merchant_offset_scenario(merchant_id=request.staff.merchant_id)
    if scenario is None:
        return None  # the service refuses, in words
    asked = form.cleaned_data["points"]
    points_used, discount_fen = services.checkout_quote(
        scenario=scenario, amount_fen=form.amount_fen(), points=asked
    )
    if not 0 < points_used < asked:
        return None
    return {
        "payment_code": form.cleaned_data["payment_code"],
        "amount_yuan": form.cleaned_data["amount_yuan"],
        "amount_fen": form.amount_fen(),
        "asked": asked,
        "points": points_used,
        "discount_fen": discount_fen,
        "due_fen": form.amount_fen() - discount_fen,
        "max_share_percent": (scenario.max_share_bp or 0) / 100,
    }


@require_POST
@console()
def voucher_consume(request):
    form = VoucherConsumeForm(request.POST)
    if _wrong_codes_refused(request):
        pass
    elif form.is_valid():
        try:
            voucher = services.voucher_consume(staff=request.staff, code=form.cleaned_data["code"])
            messages.success(
                request,
                _("Voucher accepted: %(title)s (%(points)s points).")
                % {
                    "title": local_name(voucher.redemption.scenario.title),
                    "points": intcomma(voucher.redemption.points_spent),
                },
            )
        except SpendRefused as refusal:
            if refusal.code == "not_found":
                _wrong_code_record(request)
            _refused(request, refusal)
    else:
        messages.error(request, _("Type a voucher code."))
    return redirect("merchant-till")


@require_POST
@console()
def checkout_create(request):
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the payment code, the amount and the points."))
        return redirect("merchant-till")
    if _wrong_codes_refused(request):
        return redirect("merchant-till")
    capped = _capped_quote(request, form)
    if capped is not None:
        messages.warning(
            request,
            _(
                "Only %(points)s of the %(asked)s points asked can pay for this order: confirm below."
            )
            % {"points": intcomma(capped["points"]), "asked": intcomma(capped["asked"])},
        )
        return _till_page(request, capped=capped)
    try:
        checkout = services.checkout_create(
            staff=request.staff,
            payment_code=form.cleaned_data["payment_code"],
            amount_fen=form.amount_fen(),
            points=form.cleaned_data["points"],
        )
        messages.success(
            request,
            _("Paid: %(points)s points take %(discount)s off; the customer pays %(due)s.")
            % {
                "points": intcomma(checkout.points_used),
                "discount": yuan(checkout.discount_fen),
                "due": yuan(checkout.amount_due_fen),
            },
        )
    except SpendRefused as refusal:
        if refusal.code == "payment_code_invalid":
            _wrong_code_record(request)
        _refused(request, refusal)
    return redirect("merchant-till")


@require_POST
@console()
def checkout_reverse(request, pk):
    try:
        services.checkout_reverse(staff=request.staff, checkout_id=pk)
        messages.success(request, _("Checkout reversed: the points went back to the customer."))
    except SpendRefused as refusal:
        _refused(request, refusal)
    return redirect("merchant-till")


@console()
def scenarios(request):
    merchant = request.staff.merchant
    form = ScenarioForm(
        request.POST or None,
        regions=codes.parent_of(merchant.region_id) is not None and selectors.regions_traded() > 1,
    )
    if request.method == "POST":
        if not request.staff.is_manager:
            raise PermissionDenied
        if form.is_valid():
            try:
                scenario = services.scenario_create(
                    merchant=request.staff.merchant, actor=request.user, **form.service_kwargs()
                )
                messages.success(
                    request,
                    _("Scenario “%(title)s” created (%(status)s).")
                    % {"title": scenario.title, "status": scenario.get_status_display()},
                )
                return redirect("merchant-scenarios")
            except DjangoValidationError as error:
                for field, problems in error.message_dict.items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
    rows = [
        {"scenario": scenario, "chart": selectors.redemption_chart(scenario=scenario)}
        for scenario in selectors.merchant_scenarios(merchant=request.staff.merchant)
    ]
    return render(
        request, "redemption/scenarios.html", {"staff": request.staff, "rows": rows, "form": form}
    )


@require_POST
@console(manager=True)
def scenario_action(request, pk, action):
    scenario = selectors.merchant_scenario(merchant=request.staff.merchant, scenario_id=pk)
    if scenario is None:
        raise Http404
    if action not in ("pause", "resume", "cancel"):
        raise PermissionDenied
    try:
        services.scenario_transition(scenario=scenario, action=action, actor=request.user)
    except SpendRefused as refusal:
        _refused(request, refusal)
    return redirect("merchant-scenarios")


@console(manager=True)
def settlements(request):
    return render(
        request,
        "redemption/settlements.html",
        {
            "staff": request.staff,
            "settlements": selectors.merchant_settlements(merchant=request.staff.merchant)[:100],
            "points_unsettled": selectors.merchant_points_unsettled(
                merchant_id=request.staff.merchant_id
            ),
        },
    )


SETTLEMENT_COLUMNS = [
    "day",
    "vouchers_consumed",
    "voucher_points",
    "checkouts",
    "checkout_points",
    "checkout_discount_fen",
    "points_total",
    "amount_fen",
]


@console(manager=True)
def settlements_csv(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="settlements-{request.staff.merchant_id}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["merchant", *SETTLEMENT_COLUMNS])
    for settlement in selectors.merchant_settlements(
        merchant=request.staff.merchant, oldest_first=True
    ):
        row = [request.staff.merchant.name, *(getattr(settlement, c) for c in SETTLEMENT_COLUMNS)]
        writer.writerow([csv_cell(value) for value in row])
    return response


@console(manager=True)
def settlement_file(request, pk, file_format):
    settlement = selectors.merchant_settlement(
        merchant_id=request.staff.merchant_id, settlement_id=pk
    )
    if settlement is None or file_format not in ("csv", "pdf"):
        raise Http404
    return statement_download(settlement, file_format=file_format)


@console()
def offsets_page(request):
    form = OffsetForm(request.POST or None)
    if request.method == "POST":
        if not request.staff.is_manager:
            raise PermissionDenied
        if form.is_valid():
            try:
                status, body = _offset_retire_once(request, form)
            except SpendRefused as refusal:
                _refused(request, refusal)
            else:
                if status == 201:
                    messages.success(
                        request, _("Retired %(mass)s CO2e.") % {"mass": mass(body["grams"])}
                    )
                    return redirect("certificate", pk=body["certificate_id"])
                messages.error(request, body["error"]["message"])
    return render(
        request,
        "redemption/offsets.html",
        {
            "staff": request.staff,
            "form": form,
            "pool": selectors.pool_summary(),
            "certificates": selectors.merchant_certificates(merchant=request.staff.merchant)[:100],
            "idempotency_key": uuid.uuid4().hex,
        },
    )


def _offset_retire_once(request, form: OffsetForm) -> tuple[int, dict]:
    """Retire once per form: the form's one-time key makes a double submit one certificate."""
    key = (request.POST.get("idempotency_key") or uuid.uuid4().hex)[:100]

    def retire(keep):
        certificate = offsets.offset_retire(
            staff=request.staff,
            grams=form.cleaned_data["grams"],
            purpose=form.cleaned_data["purpose"],
            vintage=form.vintage_number(),
        )
        return 201, {"certificate_id": str(certificate.pk), "grams": certificate.grams}

    return idempotent_answer(
        user=request.user, scope="offset-page", key=key, params=form.cleaned_data, action=retire
    )


@console(manager=True)
def staff_page(request):
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member, password = services.staff_add(
                merchant=request.staff.merchant, actor=request.user, **form.cleaned_data
            )
            messages.success(
                request,
                _("%(email)s can sign in with the password %(password)s (shown once).")
                % {"email": member.user.email, "password": password},
            )
            return redirect("merchant-staff")
        except DjangoValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
    return render(
        request,
        "redemption/staff.html",
        {
            "staff": request.staff,
            "form": form,
            "members": selectors.merchant_staff(merchant=request.staff.merchant),
        },
    )


def _wants_json(request) -> bool:
    return request.GET.get("format") == "json" or "application/json" in request.headers.get(
        "Accept", ""
    )


def certificate(request, pk):
    """Public: anyone can verify an offset certificate against its serials and the ledger."""
    certificate = selectors.offset_certificate(certificate_id=pk)
    if certificate is None:
        raise Http404
    data = selectors.certificate_public(certificate, url=request.build_absolute_uri(request.path))
    if _wants_json(request):
        return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    return render(
        request, "redemption/certificate.html", {"certificate": certificate, "data": data}
    )


def donation_certificate(request, public_id):
    """Public: a citizen's donation of points to a public good."""
    redemption = selectors.donation(public_id=public_id)
    if redemption is None:
        raise Http404
    return render(
        request,
        "redemption/donation_certificate.html",
        {"redemption": redemption, "reduction": selectors.donation_reduction(redemption)},
    )


# --- the citizen's wallet in the portal --------------------------------------------------------


def _citizen(request):
    account = getattr(request.user, "carbon_account", None)
    if account is None:
        raise PermissionDenied(_("Only citizens have a wallet."))
    return account


@login_required
def wallet(request):
    """What the citizen can redeem, the vouchers held (as QR codes) and a payment code for the till."""
    citizen = _citizen(request)
    payment_code = None
    points = selectors.citizen_points_available(citizen)
    if request.method == "POST":
        try:
            payment_code = services.payment_code_issue(citizen=citizen)
        except InsufficientPoints:
            messages.error(
                request, _("You have no points to pay with yet: a payment code needs points.")
            )
    vouchers = [
        {"voucher": v, "state": selectors.voucher_state(v), "qr": selectors.qr_svg(v.code)}
        for v in selectors.citizen_vouchers(citizen=citizen)[:20]
    ]
    return render(
        request,
        "redemption/wallet.html",
        {
            "points": points,
            "scenarios": selectors.wallet_scenarios(
                region=selectors.catalogue_region(asked=request.GET.get("region"), citizen=citizen)
            )[:50],
            "vouchers": vouchers,
            "payment_code": payment_code,
            "payment_qr": selectors.qr_svg(payment_code.code) if payment_code else "",
            "idempotency_key": uuid.uuid4().hex,
        },
    )


@require_POST
@login_required
def wallet_redeem(request):
    """Redeem from the portal; the form's one-time key makes a double submit one redemption."""
    citizen = _citizen(request)
    key = (request.POST.get("idempotency_key") or "")[:100]
    try:
        scenario_id = int(request.POST.get("scenario_id", ""))
    except ValueError:
        return redirect("wallet")

    try:
        status, body = services.redemption_redeem_once(
            user=request.user,
            citizen=citizen,
            scenario_id=scenario_id,
            idempotency_key=key,
            answer=lambda redemption: {
                "id": redemption.pk,
                "title": local_name(redemption.scenario.title),
            },
        )
    except SpendRefused as refusal:
        _refused(request, refusal)
        return redirect("wallet")
    if status == 201:
        messages.success(request, _("Redeemed: %(title)s.") % {"title": body.get("title", "")})
    else:
        messages.error(request, body["error"]["message"])
    return redirect("wallet")
