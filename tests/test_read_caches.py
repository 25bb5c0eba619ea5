"""The API's cached reads (users behind app tokens, account summaries) are never stale after a
write, and the lists written plainly answer what their declared fields answered."""

from __future__ import annotations

import json

import pytest
from django.urls import NoReverseMatch, reverse
from rest_framework.renderers import JSONRenderer
from rest_framework.serializers import ErrorDetail, ModelSerializer
from rest_framework.test import APIClient

from accounts.services import citizen_ranks_recompute
from carbonpoints.api.renderers import MsgspecJSONRenderer
from carbonpoints.readcache import ReadCache
from tests.factories import CitizenFactory, funded_budget
from tests.security.test_authorization_matrix import session_token
from tests.spend.factories import ScenarioFactory, give_points

pytestmark = pytest.mark.django_db


def signed_in(user) -> APIClient:
    """The app's client: every call carries the user's ``X-Session-Token``."""
    return APIClient(HTTP_X_SESSION_TOKEN=session_token(user), HTTP_ACCEPT_LANGUAGE="en")


def account(client) -> dict:
    response = client.get("/api/v1/me/account")
    assert response.status_code == 200, response.content
    return response.json()


# --- ReadCache ----------------------------------------------------------------------------------


def test_a_value_read_before_a_write_is_never_served_after_it():
    cache, rows = ReadCache("test", timeout_s=60), {"balance": 1}

    def slow_reader():
        # read the rows, then a writer commits and forgets, then the reader stores what it read
        read = dict(rows)
        rows["balance"] = 2
        cache.forget(7)
        return read

    assert cache.get(7, slow_reader) == {"balance": 1}  # the reader's own answer: what it read
    assert cache.get(7, lambda: dict(rows)) == {"balance": 2}  # the next one misses and reads again
    assert cache.get(7, lambda: pytest.fail("served from the cache")) == {"balance": 2}


def test_forget_all_drops_every_value():
    cache = ReadCache("test", timeout_s=60)
    cache.get(1, lambda: "a"), cache.get(2, lambda: "b")
    cache.forget_all()
    assert (cache.get(1, lambda: "a2"), cache.get(2, lambda: "b2")) == ("a2", "b2")


def test_forgetting_many_ids_renews_each_generation_with_its_expiry():
    from django.core.cache import cache as django_cache

    cache = ReadCache("test", timeout_s=60)
    for ident in range(3):
        cache.get(ident, lambda: "old")
    cache.forget_many([0, 1, 2])  # a credit of three citizens
    assert [cache.get(ident, lambda: "new") for ident in range(3)] == ["new"] * 3
    assert cache.get(3, lambda: "untouched") == "untouched"
    if hasattr(django_cache, "set_same"):  # Redis: one command set them, each with its expiry
        client = django_cache._cache.get_client(None)
        ttls = [client.ttl(django_cache.make_key(cache._generation_key(i))) for i in range(3)]
        assert all(0 < ttl <= cache.generation_timeout_s for ttl in ttls), ttls


@pytest.mark.redis  # the one-command renewal is Redis's: missing Redis fails on CI
def test_set_same_keeps_the_cache_semantics_of_a_timeout():
    from django.core.cache import cache as django_cache

    django_cache.set_same(["set_same:a", "set_same:b"], "v", 60)
    assert django_cache.get_many(["set_same:a", "set_same:b"]) == {
        "set_same:a": "v",
        "set_same:b": "v",
    }
    django_cache.set_same(["set_same:a"], "w", None)  # forever
    assert django_cache.get("set_same:a") == "w"
    assert django_cache._cache.get_client(None).ttl(django_cache.make_key("set_same:a")) == -1
    django_cache.set_same(["set_same:b"], "w", 0)  # gone at once
    assert django_cache.get("set_same:b") is None


# --- the account page stays exact ---------------------------------------------------------------


def test_the_balance_is_fresh_after_a_credit_through_the_partner_pipeline():
    from tests.earn.factories import MetroMember

    funded_budget(sponsor__name="Test City", name="city budget")
    metro = MetroMember.open()
    from accounts.models import CarbonAccount

    client = signed_in(CarbonAccount.objects.get(pk=metro.owner).user)
    before = account(client)  # now cached
    assert before["points"]["available"] == 0

    metro.ride(1, km=10)

    after = account(client)
    assert after["reduction_g"] == 467 and after["points"]["available"] == 46


def test_the_balance_is_fresh_after_a_redemption_and_a_credit():
    citizen = CitizenFactory()
    give_points(citizen, 500)
    client = signed_in(citizen)
    assert account(client)["points"]["available"] == 500
    scenario = ScenarioFactory(points_cost=120)

    redeemed = client.post(
        "/api/v1/redemptions",
        {"scenario_id": scenario.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert redeemed.status_code == 201, redeemed.content

    assert account(client)["points"]["available"] == 380
    give_points(citizen, 20)
    assert account(client)["points"]["available"] == 400


def test_a_new_ranking_shows_at_once():
    citizen = CitizenFactory()
    client = signed_in(citizen)
    assert account(client)["rank"]["position"] is None
    citizen_ranks_recompute()
    assert account(client)["rank"]["position"] == 1


def test_the_account_page_reads_no_table_once_cached(django_assert_num_queries):
    citizen = CitizenFactory()
    client = signed_in(citizen)
    account(client)
    with django_assert_num_queries(0):
        account(client)


# --- users behind app tokens --------------------------------------------------------------------


def test_a_changed_password_ends_the_cached_sign_in():
    citizen = CitizenFactory()
    client = signed_in(citizen)
    account(client)  # the user is cached
    citizen.set_password("another-long-secret-7")
    citizen.save()
    assert client.get("/api/v1/me/account").status_code == 401


def test_a_deactivated_user_is_no_longer_signed_in():
    citizen = CitizenFactory()
    client = signed_in(citizen)
    account(client)
    citizen.is_active = False
    citizen.save()
    assert client.get("/api/v1/me/account").status_code == 401


def test_a_role_change_shows_at_once():
    from tests.factories import UserFactory

    user = UserFactory()
    client = signed_in(user)
    assert client.get("/api/v1/me/account").json()["error"]["code"] == "not_a_citizen"
    from accounts.models import CarbonAccount

    CarbonAccount.objects.create(user=user)
    assert client.get("/api/v1/me/account").status_code == 200


# --- plain lists answer what their fields answered -----------------------------------------------


def test_a_catalogue_row_answers_what_the_model_serializer_answered():
    from redemption.api.serializers import ScenarioSerializer
    from redemption.selectors import scenario_catalogue_rows

    scenarios = [
        ScenarioFactory(),
        ScenarioFactory(max_share_bp=3000, points_per_yuan=100, stock=None, description=""),
    ]
    rows = {row["id"]: row for row in scenario_catalogue_rows()}
    serializer = ScenarioSerializer()
    for scenario in scenarios:
        assert serializer.plain(rows[scenario.pk]) == ModelSerializer.to_representation(
            serializer, scenario
        )
        assert serializer.plain(scenario) == serializer.plain(rows[scenario.pk])


def test_an_action_in_the_list_answers_what_its_detail_answers():
    from tests.earn.factories import MetroMember

    funded_budget(sponsor__name="Test City", name="city budget")
    metro = MetroMember.open()
    for n in range(3):
        metro.ride(n, km=10 if n else 90)  # 90 km: rejected as implausible
    metro.reverse(1)
    from accounts.models import CarbonAccount

    client = signed_in(CarbonAccount.objects.get(pk=metro.owner).user)
    listed = client.get("/api/v1/me/actions").json()["results"]
    assert {a["state"] for a in listed} >= {"credited", "rejected", "reversed"}
    for item in listed:
        detail = client.get(f"/api/v1/me/actions/{item['id']}").json()
        detail.pop("explanation")
        assert item == detail


# --- the renderer and the floor -----------------------------------------------------------------


def test_the_renderer_writes_what_drf_wrote():
    from datetime import UTC, datetime

    from django.utils.translation import gettext_lazy

    data = {
        "error": {
            "code": ErrorDetail("invalid", code="invalid"),
            "message": gettext_lazy("Not found."),
            "details": {"n": [1, 2.5, None, True]},
        },
        "at": datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
        "text": "碳普惠 \u2028 line",
    }
    ours = MsgspecJSONRenderer().render(data, "application/json", {})
    assert ours == JSONRenderer().render(data, "application/json", {})
    assert json.loads(ours)["text"] == "碳普惠 \u2028 line"


def test_the_framework_floor_is_not_served_outside_the_benchmark():
    with pytest.raises(NoReverseMatch):
        reverse("bench-floor")


def test_the_account_page_answers_what_its_fields_answered():
    from rest_framework.serializers import Serializer

    from accounts.api.serializers import AccountSerializer
    from accounts.selectors import carbon_account_summary

    citizen = CitizenFactory()
    give_points(citizen, 70)
    citizen_ranks_recompute()
    summary = carbon_account_summary(account=citizen.carbon_account)
    serializer = AccountSerializer()
    assert serializer.plain(summary) == Serializer.to_representation(serializer, summary)
    assert serializer.plain(summary)["rank"]["as_of"].endswith("+08:00")


def test_two_databases_sharing_a_redis_never_see_each_others_values(monkeypatch):
    from django.conf import settings

    cache = ReadCache("test", timeout_s=60)
    cache.get(1, lambda: "this database's row")
    monkeypatch.setitem(settings.DATABASES["default"], "NAME", "another")
    assert cache.get(1, lambda: "the other's row") == "the other's row"


# --- one round trip for the session, the user, the summary and the rate limit --------------------


class RedisCalls:
    """Counts the commands (or pipelines, or scripts) sent to Redis: one send is one round trip."""

    def __init__(self, monkeypatch):
        from redis.connection import AbstractConnection

        self.sent = 0
        send = AbstractConnection.send_packed_command

        def counted(connection, command, check_health=True):
            self.sent += 1
            return send(connection, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)


def test_the_account_page_is_one_round_trip_to_redis_once_the_token_is_known(
    monkeypatch, django_assert_num_queries
):
    client = signed_in(CitizenFactory())
    first = account(client)  # the token's first request: the hint, the user, the summary kept
    calls = RedisCalls(monkeypatch)
    with django_assert_num_queries(0):
        assert account(client) == first
    assert calls.sent == 1


def test_the_one_round_trip_still_sees_a_write_at_once():
    citizen = CitizenFactory()
    give_points(citizen, 300)
    client = signed_in(citizen)
    account(client), account(client)
    scenario = ScenarioFactory(points_cost=100)
    redeemed = client.post(
        "/api/v1/redemptions", {"scenario_id": scenario.pk}, format="json", HTTP_IDEMPOTENCY_KEY="1"
    )
    assert redeemed.status_code == 201
    assert account(client)["points"]["available"] == 200
    give_points(citizen, 50)
    assert account(client)["points"]["available"] == 250


def test_a_signed_out_token_is_refused_though_its_hint_remains():
    citizen = CitizenFactory()
    client = signed_in(citizen)
    account(client), account(client)
    token = client.defaults["HTTP_X_SESSION_TOKEN"]
    assert client.delete("/_allauth/app/v1/auth/session").status_code == 401  # signed out
    assert APIClient(HTTP_X_SESSION_TOKEN=token).get("/api/v1/me/account").status_code == 401


def test_a_hint_naming_another_user_is_never_trusted():
    from django.core.cache import cache

    from accounts.authentication import USERS

    mine, other = CitizenFactory(), CitizenFactory()
    client, theirs = signed_in(mine), signed_in(other)
    account(theirs), account(theirs)
    token = client.defaults["HTTP_X_SESSION_TOKEN"]
    wrong = f"{other.pk}:{other.carbon_account.pk}"
    cache._cache.get_client(write=True).set(cache.make_key(f"{USERS._prefix}:tok:{token}"), wrong)

    assert account(client)["points"] == account(signed_in(mine))["points"]
    give_points(mine, 70)
    assert account(client)["points"]["available"] == 70  # my own account, not theirs
    assert account(theirs)["points"]["available"] == 0


def test_the_rate_limit_still_counts_every_request(monkeypatch):
    from carbonpoints.api.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/hour", "anon": None})
    client = signed_in(CitizenFactory())
    answers = [client.get("/api/v1/me/account").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


# --- a token's very first request, and the app's short DRF steps (AppAPIView) ----------------------

PASSWORD = "a-long-secret-42"


@pytest.mark.parametrize("way", ["login", "signup"])
def test_the_first_request_after_signing_in_or_up_is_one_round_trip(
    way, monkeypatch, django_assert_num_queries
):
    if way == "login":
        CitizenFactory(email="first@example.cn", password=PASSWORD)
    signed = APIClient().post(
        f"/_allauth/app/v1/auth/{way}",
        {"email": "first@example.cn", "password": PASSWORD},
        format="json",
    )
    assert signed.status_code == 200, signed.content
    client = APIClient(HTTP_X_SESSION_TOKEN=signed.json()["meta"]["session_token"])
    calls = RedisCalls(monkeypatch)
    with django_assert_num_queries(0):
        answer = client.get("/api/v1/me/account")
    assert answer.status_code == 200
    assert answer.json()["reduction_g"] == 0
    assert calls.sent == 1


def test_a_hint_written_at_sign_in_is_still_checked_against_the_session():
    from django.core.cache import cache

    from accounts.authentication import USERS

    mine, other = CitizenFactory(), CitizenFactory()
    give_points(other, 90)
    theirs = signed_in(other)
    account(theirs)
    signed = APIClient().post(
        "/_allauth/app/v1/auth/login",
        {"email": mine.email, "password": "x"},  # a wrong password: no token, no hint
        format="json",
    )
    assert signed.status_code == 400
    client = signed_in(mine)
    token = client.defaults["HTTP_X_SESSION_TOKEN"]
    wrong = f"{other.pk}:{other.carbon_account.pk}"
    cache._cache.get_client(write=True).set(cache.make_key(f"{USERS._prefix}:tok:{token}"), wrong)
    assert account(client)["points"]["available"] == 0  # my own account, not theirs


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_an_app_call_answers_what_drf_negotiated(accept):
    """The short negotiation picks what DRF's picked: the same bytes, type and Vary."""
    from rest_framework.negotiation import DefaultContentNegotiation

    from carbonpoints.api.lean import AppCall

    citizen = CitizenFactory()
    give_points(citizen, 40)
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    short = signed_in(citizen).get("/api/v1/me/actions", **headers)
    original = AppCall.get_content_negotiator
    AppCall.get_content_negotiator = lambda self: DefaultContentNegotiation()  # type: ignore[method-assign]
    try:
        drf = signed_in(citizen).get("/api/v1/me/actions", **headers)
    finally:
        AppCall.get_content_negotiator = original  # type: ignore[method-assign]
    assert short.status_code == drf.status_code == 200
    assert short.content == drf.content
    assert short["Content-Type"] == drf["Content-Type"] == "application/json"
    assert short["Vary"] == drf["Vary"]


def test_other_accept_headers_are_negotiated_by_drf():
    client = signed_in(CitizenFactory())
    indented = client.get("/api/v1/me/account", HTTP_ACCEPT="application/json; indent=4")
    assert indented.status_code == 200
    assert indented.content.startswith(b"{\n    ")
    assert client.get("/api/v1/me/account", HTTP_ACCEPT="image/png").status_code == 406
    browsable = client.get("/api/v1/me/account?format=api")
    assert browsable.status_code == 200
    assert browsable["Content-Type"].startswith("text/html")


def test_a_token_call_over_its_rate_is_answered_as_before(monkeypatch):
    from carbonpoints.api.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/hour", "anon": None})
    client = signed_in(CitizenFactory())
    answers = [client.get("/api/v1/scenarios") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "throttled"
    assert 0 < refused.json()["error"]["details"]["retry_after_s"] <= 3600
    assert int(refused["Retry-After"]) == refused.json()["error"]["details"]["retry_after_s"]


@pytest.mark.parametrize(("start", "stop"), [(0, 10), (10, 20), (20, 23), (30, 40), (0, None)])
def test_a_page_read_with_its_count_is_the_page_and_count_read_apart(start, stop):
    from redemption.selectors import scenario_catalogue_rows

    ScenarioFactory.create_batch(23)
    apart = scenario_catalogue_rows()
    together = scenario_catalogue_rows()
    together.page_read(start, 10)
    assert together.count() == apart.count() == 23
    assert together[start:stop] == apart[start:stop]


def test_an_empty_list_is_one_empty_page_with_its_count():
    from carbonpoints.earn.selectors import citizen_action_rows

    citizen = CitizenFactory()
    rows = citizen_action_rows(account_id=citizen.carbon_account.pk)
    rows.page_read(0, 20)
    assert (rows.count(), rows[0:0]) == (0, [])


def test_the_catalogue_pages_as_before_with_one_statement_each(django_assert_num_queries):
    ScenarioFactory.create_batch(23)
    client = signed_in(CitizenFactory())
    client.get("/api/v1/scenarios")  # the user and the summary cached
    with django_assert_num_queries(1):
        second = client.get("/api/v1/scenarios?page=2&page_size=10").json()
    assert second["count"] == 23
    assert len(second["results"]) == 10
    assert second["next"].endswith("page=3&page_size=10")
    assert second["previous"].endswith("page_size=10")
    last = client.get("/api/v1/scenarios?page=3&page_size=10").json()
    assert len(last["results"]) == 3 and last["next"] is None
    assert client.get("/api/v1/scenarios?page=4&page_size=10").status_code == 404
    assert client.get("/api/v1/scenarios?page=last&page_size=10").json() == last
    ids = [
        row["id"]
        for page in (1, 2, 3)
        for row in client.get(f"/api/v1/scenarios?page={page}&page_size=10").json()["results"]
    ]
    assert len(set(ids)) == 23


def test_the_one_read_answer_holds_any_bytes():
    from accounts.authentication import _unframe

    assert _unframe(b"3:a:b-0:2:--4:\x80\x00-:") == [b"a:b", None, b"", b"--", b"\x80\x00-:"]
    assert _unframe(b"-") == [None]


def test_a_list_page_is_planned_once_per_connection_then_run_by_name(django_assert_num_queries):
    from django.db import connection

    from carbonpoints.earn.selectors import citizen_action_rows

    first, second = CitizenFactory(), CitizenFactory()
    for citizen in (first, second, first):
        rows = citizen_action_rows(account_id=citizen.carbon_account.pk)
        with django_assert_num_queries(1):  # still one statement, seen by the query log
            rows.page_read(0, 20)
        assert (rows.count(), rows[0:20]) == (0, [])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE 'SELECT t.total, q.* FROM (SELECT COUNT(*) FROM (SELECT * FROM earn_%%'"
        )
        assert cursor.fetchall() == [(3,)]  # one statement prepared, run three times
