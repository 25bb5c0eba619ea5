"""Who may do what, for every API endpoint and the main pages, against every role: generated
from one table. An allowed call gets past authorization (2xx, or a refusal of the domain such as
409 for a voucher consumed by the role before); every other call is refused with 401, 403 or
404 in the error shape (pages: a redirect to sign in, or 403).

The operators are four: one of no region named (as every operator was before regions), the
operators of two cities (Wuhan: merchant X and partner P are there; Yichang: merchant Y and
partner Q) and a provincial operator (Hubei). A city's operator gets 403 or 404 on the other
city's objects in the operator pages."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from carbonpoints.budgets.models import Budget
from carbonpoints.earn.signing import signature
from tests.earn.factories import partner_with_key
from tests.factories import CitizenFactory, UserFactory, funded_budget
from tests.spend.factories import (
    CashierFactory,
    PointsOffsetScenarioFactory,
    ScenarioFactory,
    StaffFactory,
    fill_pool,
    give_points,
)

pytestmark = pytest.mark.django_db

ANON, CA, CB, CX, MX, CY, MY, PP, PQ, OP, OW, OY, OH = ROLES = (
    "anonymous",
    "citizen A",
    "citizen B",
    "cashier X",
    "manager X",
    "cashier Y",
    "manager Y",
    "partner P",
    "partner Q",
    "operator",
    "Wuhan operator",
    "Yichang operator",
    "Hubei operator",
)
OPS = (OP, OW, OY, OH)
WUHAN, YICHANG, HUBEI = "420100", "420500", "420000"
OK = "ok"
STAFF = (CX, MX, CY, MY)
UNSIGNED = (ANON, PP, PQ)  # the user API does not take partner signatures: anonymous there


def citizen_only(*, object_of_a: bool = False) -> dict[str, Any]:
    """Citizen endpoints: other roles 403 ``not_a_citizen``; B cannot see A's objects (404)."""
    return {
        ANON: 401,
        PP: 401,
        PQ: 401,
        CA: OK,
        CB: 404 if object_of_a else OK,
        **dict.fromkeys((*STAFF, *OPS), 403),
    }


def signed_in() -> dict[str, Any]:
    return {**dict.fromkeys(UNSIGNED, 401), **dict.fromkeys((CA, CB, *STAFF, *OPS), OK)}


def merchant(*, manager: bool = False, object_of_x: bool = False) -> dict[str, Any]:
    """Merchant endpoints: X's staff; Y's staff cannot reach X's objects (404); a cashier is
    refused manager-only calls (403, before any object is looked up)."""
    rule = {**dict.fromkeys(UNSIGNED, 401), **dict.fromkeys((CA, CB, *OPS), 403), MX: OK}
    rule[CX] = 403 if manager else OK
    rule[CY] = 403 if manager else (404 if object_of_x else OK)
    rule[MY] = 404 if object_of_x else OK
    return rule


def partner(*, object_of_p: bool = False) -> dict[str, Any]:
    return {
        **dict.fromkeys((ANON, CA, CB, *STAFF, *OPS), 401),
        PP: OK,
        PQ: 404 if object_of_p else OK,
    }


def public() -> dict[str, Any]:
    return dict.fromkeys(ROLES, OK)


@dataclass
class World:
    users: dict[str, Any]
    partners: dict[str, Any]
    ids: dict[str, Any]
    tokens: dict[str, str]


def session_token(user) -> str:
    """The app's ``X-Session-Token`` for ``user`` (allauth's headless token is the session key)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


@pytest.fixture
def world(django_capture_on_commit_callbacks) -> World:
    """Citizens A and B, merchants X and Y (a cashier and a manager each), partners P and Q, an
    operator, and objects of A, X and P to reach for."""
    a, b = CitizenFactory(), CitizenFactory()
    manager_x, manager_y = StaffFactory(), StaffFactory()
    cashier_x, cashier_y = (
        CashierFactory(merchant=manager_x.merchant),
        CashierFactory(merchant=manager_y.merchant),
    )
    p = partner_with_key(name="Metro P", actions=["metro_ride"])
    q = partner_with_key(name="Metro Q", actions=["metro_ride"])
    users = {
        CA: a,
        CB: b,
        CX: cashier_x.user,
        MX: manager_x.user,
        CY: cashier_y.user,
        MY: manager_y.user,
        OP: UserFactory(role="operator", is_staff=True, is_superuser=True),
        **{
            role: _operator_of(region) for role, region in ((OW, WUHAN), (OY, YICHANG), (OH, HUBEI))
        },
    }
    manager_x.merchant.region_id, manager_y.merchant.region_id = WUHAN, YICHANG
    manager_x.merchant.save(update_fields=["region"])
    manager_y.merchant.save(update_fields=["region"])
    p.partner.regions.set([WUHAN])
    q.partner.regions.set([YICHANG])
    budgets = {
        city: funded_budget(sponsor__name=f"{city} bureau", region_id=city).pk
        for city in (WUHAN, YICHANG)
    }
    give_points(a, 5_000)
    scenario = ScenarioFactory(merchant=manager_x.merchant, points_cost=100, stock=50)
    PointsOffsetScenarioFactory(merchant=manager_x.merchant)
    a_client = APIClient()
    a_client.force_authenticate(a)
    with django_capture_on_commit_callbacks(execute=True):
        link = a_client.post(
            "/api/v1/me/links",
            {"partner_id": p.partner.pk, "subject": "member-a", "consent": True},
            format="json",
        ).json()
        vouchers = [
            a_client.post(
                "/api/v1/redemptions",
                {"scenario_id": scenario.pk},
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"k{n}",
            ).json()["voucher"]["code"]
            for n in range(3)
        ]
    code = a_client.post("/api/v1/me/payment-codes").json()["code"]
    x_client = APIClient()
    x_client.force_authenticate(cashier_x.user)
    checkout = x_client.post(
        "/api/v1/merchant/checkouts",
        {"payment_code": code, "amount_fen": 10_000, "points": 1_000},
        format="json",
    ).json()
    fill_pool("metro_ride", 2026, 10, 100_000)
    m_client = APIClient()
    m_client.force_authenticate(manager_x.user)
    certificate = m_client.post(
        "/api/v1/merchant/offsets", {"grams": 10, "purpose": "matrix"}, format="json"
    ).json()["certificate"]
    world = World(
        users=users,
        partners={PP: p, PQ: q},
        tokens={r: session_token(u) for r, u in users.items()},
        ids={
            "link": link["id"],
            "scenario": scenario.pk,
            "vouchers": vouchers,
            "checkout": checkout["id"],
            "certificate": certificate["id"],
            "merchant_x": manager_x.merchant.pk,
            "merchant_y": manager_y.merchant.pk,
            "partner_p": p.partner.pk,
            "partner_q": q.partner.pk,
            "budget_w": budgets[WUHAN],
            "budget_y": budgets[YICHANG],
            "sponsor_w": Budget.objects.get(pk=budgets[WUHAN]).sponsor_id,
            "staff_y": manager_y.pk,
            "key_q": q.partner.keys.get().pk,
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        sent = call(
            world,
            PP,
            "POST",
            "/api/v1/partner/events",
            {"events": [_event("matrix-1", "member-a")]},
        )
        upload = call(
            world,
            PP,
            "POST",
            "/api/v1/partner/uploads",
            (json.dumps(_event("matrix-2", "member-a")) + "\n").encode(),
            "application/x-ndjson",
        )
    world.ids |= {"batch": sent.json()["batch_id"], "upload": upload.json()["upload_id"]}
    from carbonpoints.earn.models import ActionRecord

    world.ids["action"] = ActionRecord.objects.filter(account=a.carbon_account).values_list(
        "pk", flat=True
    )[0]
    return world


def _operator_of(region: str):
    user = UserFactory(role="operator", is_staff=True, is_superuser=True)
    user.regions.set([region])
    return user


def _event(external_id: str, subject: str) -> dict[str, Any]:
    from django.utils import timezone

    return {
        "external_id": external_id,
        "subject": subject,
        "action": "metro_ride",
        "quantity": 5,
        "unit": "km",
        "occurred_at": (timezone.now() - timezone.timedelta(hours=2)).isoformat(),
    }


def call(
    world: World,
    role: str,
    method: str,
    path: str,
    body: Any = None,
    content_type: str = "application/json",
):
    """``role`` calls ``path``: partners sign the request, the others are signed in (or not)."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    headers = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}
    if role in (PP, PQ):
        credentials = world.partners[role]
        stamp = str(int(time.time()))
        headers |= {
            "HTTP_X_CP_KEY": credentials.key_id,
            "HTTP_X_CP_TIMESTAMP": stamp,
            "HTTP_X_CP_SIGNATURE": signature(
                secret=credentials.secret, timestamp=stamp, method=method, path=path, body=raw
            ),
        }
    elif role != ANON:
        headers["HTTP_X_SESSION_TOKEN"] = world.tokens[role]  # as the app signs in: a real session
    if method == "GET":
        return client.get(path, **headers)
    return client.generic(method, path, data=raw, content_type=content_type, **headers)


def unique() -> str:
    return uuid.uuid4().hex[:10]


# One row per operation: (method, path, body, who may). ``{name}`` is one of the world's ids.
TABLE: list[tuple[str, str, Any, dict[str, Any]]] = [
    # citizen
    ("GET", "/api/v1/me/account", None, citizen_only()),
    ("GET", "/api/v1/me/ledger", None, citizen_only()),
    ("GET", "/api/v1/me/actions", None, citizen_only()),
    ("GET", "/api/v1/me/actions/{action}", None, citizen_only(object_of_a=True)),
    ("GET", "/api/v1/me/links", None, citizen_only()),
    (
        "POST",
        "/api/v1/me/links",
        lambda w: {"partner_id": w.partners[PQ].partner.pk, "subject": unique(), "consent": True},
        citizen_only(),
    ),
    ("DELETE", "/api/v1/me/links/{link}", None, citizen_only(object_of_a=True)),
    ("GET", "/api/v1/me/vouchers", None, citizen_only()),
    ("POST", "/api/v1/me/payment-codes", None, citizen_only()),
    ("POST", "/api/v1/redemptions", lambda w: {"scenario_id": w.ids["scenario"]}, citizen_only()),
    ("GET", "/api/v1/scenarios", None, signed_in()),
    ("GET", "/api/v1/partners", None, signed_in()),
    # merchant
    ("GET", "/api/v1/merchant/scenarios", None, merchant()),
    (
        "POST",
        "/api/v1/merchant/scenarios",
        lambda w: {"kind": "voucher", "title": unique(), "points_cost": 10},
        merchant(manager=True),
    ),
    (
        "POST",
        "/api/v1/merchant/scenarios/{scenario}/pause",
        None,
        merchant(manager=True, object_of_x=True),
    ),
    (
        "POST",
        "/api/v1/merchant/scenarios/{scenario}/resume",
        None,
        merchant(manager=True, object_of_x=True),
    ),
    ("GET", "/api/v1/merchant/vouchers/{voucher}", None, merchant(object_of_x=True)),
    ("POST", "/api/v1/merchant/vouchers/{voucher}/consume", None, merchant(object_of_x=True)),
    ("GET", "/api/v1/merchant/checkouts", None, merchant()),
    (
        "POST",
        "/api/v1/merchant/checkouts",
        lambda w: {"payment_code": "0" * 18, "amount_fen": 100, "points": 10},
        merchant(),
    ),
    ("POST", "/api/v1/merchant/checkouts/{checkout}/reverse", None, merchant(object_of_x=True)),
    ("GET", "/api/v1/merchant/settlements", None, merchant(manager=True)),
    ("GET", "/api/v1/merchant/offsets", None, merchant()),
    (
        "POST",
        "/api/v1/merchant/offsets",
        lambda w: {"grams": 1, "purpose": "matrix"},
        merchant(manager=True),
    ),
    ("GET", "/api/v1/merchant/staff", None, merchant(manager=True)),
    (
        "POST",
        "/api/v1/merchant/staff",
        lambda w: {"email": f"{unique()}@shop.cn", "role": "cashier"},
        merchant(manager=True),
    ),
    (
        "POST",
        "/api/v1/merchant/scenarios/{scenario}/cancel",
        None,
        merchant(manager=True, object_of_x=True),
    ),
    # partner
    (
        "POST",
        "/api/v1/partner/events",
        lambda w: {"events": [_event(unique(), "member-z")]},
        partner(),
    ),
    ("GET", "/api/v1/partner/events/matrix-1", None, partner(object_of_p=True)),
    ("GET", "/api/v1/partner/batches/{batch}", None, partner(object_of_p=True)),
    ("GET", "/api/v1/partner/uploads/{upload}", None, partner(object_of_p=True)),
    # public
    ("GET", "/api/v1/certificates/{certificate}", None, public()),
    ("GET", "/api/v1/schema/", None, public()),
]


def _path(template: str, world: World, role: str) -> str:
    ids = {**world.ids, "voucher": world.ids["vouchers"][0]}
    return template.format(**ids)


def test_every_role_against_every_api_operation(world):
    """The whole table in one world (the calls of allowed roles may change it, e.g. a voucher
    consumed by cashier X is answered 409 to manager X: still past authorization)."""
    wrong, cells = [], 0
    for method, template, body, rule in TABLE:
        assert set(rule) == set(ROLES), template
        for role in ROLES:
            expected = rule[role]
            payload = body(world) if callable(body) else body
            response = call(world, role, method, _path(template, world, role), payload)
            cells += 1
            status = response.status_code
            if expected == OK:
                if status in (401, 403, 404, 405) or status >= 500:
                    wrong.append(
                        f"{role} {method} {template}: {status} (allowed) {response.content[:200]!r}"
                    )
            elif status != expected:
                wrong.append(
                    f"{role} {method} {template}: {status}, expected {expected} {response.content[:200]!r}"
                )
            elif "schema" not in template:
                error = response.json().get("error", {})
                if not {"code", "message", "details"} <= set(error):
                    wrong.append(f"{role} {method} {template}: not the error shape")
    assert not wrong, "\n".join(wrong)
    assert cells == len(TABLE) * len(ROLES)


def operator_page(*, wuhan: int = 200, yichang: int = 200) -> dict[str, int]:
    """An operator page: the others are sent to sign in as staff; the operator of no region and
    the provincial one see it; each city's operator as said (403 or 404 for another city's)."""
    return {
        **dict.fromkeys((ANON, CA, CB, *STAFF), 302),
        OP: 200,
        OH: 200,
        OW: wuhan,
        OY: yichang,
    }


WUHANS, YICHANGS = operator_page(yichang=403), operator_page(wuhan=403)

PAGES: list[tuple[str, dict[str, int]]] = [
    ("/me/", {ANON: 302, CA: 200, CB: 200, **dict.fromkeys((*STAFF, *OPS), 403)}),
    ("/me/wallet/", {ANON: 302, CA: 200, CB: 200, **dict.fromkeys((*STAFF, *OPS), 403)}),
    (
        "/merchant/",
        {ANON: 302, CA: 403, CB: 403, **dict.fromkeys(STAFF, 200), **dict.fromkeys(OPS, 403)},
    ),
    (
        "/merchant/staff/",
        {
            ANON: 302,
            CA: 403,
            CB: 403,
            CX: 403,
            CY: 403,
            MX: 200,
            MY: 200,
            **dict.fromkeys(OPS, 403),
        },
    ),
    (
        "/merchant/settlements/",
        {
            ANON: 302,
            CA: 403,
            CB: 403,
            CX: 403,
            CY: 403,
            MX: 200,
            MY: 200,
            **dict.fromkeys(OPS, 403),
        },
    ),
    ("/admin/", operator_page()),
    ("/operators/dashboard/", operator_page()),
    ("/admin/redemption/merchant/{merchant_x}/change/", WUHANS),
    ("/admin/redemption/merchant/{merchant_y}/change/", YICHANGS),
    ("/admin/redemption/scenario/{scenario}/change/", WUHANS),
    ("/admin/redemption/checkout/{checkout}/change/", WUHANS),
    ("/admin/redemption/offsetcertificate/{certificate}/change/", WUHANS),
    ("/admin/earn/partner/{partner_p}/change/", WUHANS),
    ("/admin/earn/partner/{partner_q}/change/", YICHANGS),
    ("/admin/earn/actionrecord/{action}/change/", WUHANS),
    ("/admin/earn/batch/{batch}/change/", WUHANS),
    ("/admin/earn/upload/{upload}/change/", WUHANS),
    ("/admin/budgets/budget/{budget_w}/change/", WUHANS),
    ("/admin/budgets/budget/{budget_y}/change/", YICHANGS),
    ("/admin/budgets/budget/{budget_w}/deposit/", operator_page(yichang=404)),
    ("/admin/budgets/sponsor/{sponsor_w}/change/", WUHANS),
    ("/admin/redemption/merchantstaff/{staff_y}/change/", YICHANGS),
    ("/admin/earn/partnerkey/{key_q}/change/", YICHANGS),
    ("/admin/budgets/budget/{budget_y}/deposit/", operator_page(wuhan=404)),
    ("/certificates/{certificate}", dict.fromkeys((ANON, CA, CB, *STAFF, *OPS), 200)),
]


def test_every_role_against_the_pages(world):
    wrong = []
    for template, rule in PAGES:
        for role, expected in rule.items():
            client = Client(HTTP_ACCEPT_LANGUAGE="en")
            if role != ANON:
                client.force_login(world.users[role])
            status = client.get(_path(template, world, role)).status_code
            if status != expected:
                wrong.append(f"{role} GET {template}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)
