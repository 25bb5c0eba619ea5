"""From outside: a citizen rides in Wuhan and in Yichang, and each ride is credited under its
city's methodology and funded by its city's budget."""

from django.utils import timezone

from carbonpoints.methodologies.models import Methodology
from tests.factories import city_version, funded_budget

from .factories import event

HUBEI, WUHAN, YICHANG = "420000", "420100", "420500"


def test_each_ride_is_credited_under_its_city_methodology_and_budget(
    metro, linked_citizen_client, _city_budget
):
    Methodology.objects.update(region_id=HUBEI)  # the province's catalogue
    city_version()
    yichang_budget = funded_budget(
        sponsor__name="Yichang City", name="Yichang 2026", region_id=YICHANG
    )
    metro.partner.regions.set([WUHAN, YICHANG])

    metro.send(
        event(external_id="w", quantity=10, region=WUHAN),
        event(external_id="y", quantity=10, region=YICHANG),
    )

    rides = {
        a["region"]: a for a in linked_citizen_client.get("/api/v1/me/actions").json()["results"]
    }
    assert set(rides) == {WUHAN, YICHANG}
    wuhan, yichang = (
        linked_citizen_client.get(f"/api/v1/me/actions/{rides[x]['id']}").json()
        for x in (WUHAN, YICHANG)
    )
    assert (wuhan["state"], wuhan["explanation"]["credited_g"]) == ("credited", 467)
    assert wuhan["explanation"]["conversion"]["budget_id"] == _city_budget.pk
    assert (
        yichang["explanation"]["methodology"]["version"],
        yichang["explanation"]["credited_g"],
    ) == (7, 600)
    assert yichang["explanation"]["conversion"]["budget_id"] == yichang_budget.pk


def test_a_ride_where_no_budget_funds_it_is_owed_and_the_account_says_so(
    metro, linked_citizen_client
):
    Methodology.objects.update(region_id=HUBEI)
    metro.partner.regions.set([YICHANG])  # the test city's budget funds Wuhan only

    metro.send(event(external_id="y", quantity=10))

    ride = linked_citizen_client.get("/api/v1/me/actions").json()["results"][0]
    account = linked_citizen_client.get("/api/v1/me/account").json()
    assert (ride["region"], ride["points_status"], ride["sponsor"]) == (
        YICHANG,
        "awaiting_funding",
        None,
    )
    assert (account["points_owed"], account["points"]["available"]) == (ride["points"], 0)
    assert ride["points"] > 0


def test_spent_in_xiangyang_the_month_statement_shows_what_wuhan_and_yichang_owe(
    metro, linked_citizen_client, _city_budget, operator_client
):
    from tests.spend.factories import MerchantFactory, ScenarioFactory

    Methodology.objects.update(region_id=HUBEI)
    funded_budget(sponsor__name="Yichang City", name="Yichang 2026", region_id=YICHANG)
    metro.partner.regions.set([WUHAN, YICHANG])
    metro.send(
        event(external_id="w", quantity=10, region=WUHAN),
        event(external_id="y", quantity=10, region=YICHANG),
    )
    points = {
        a["region"]: a["points"]
        for a in linked_citizen_client.get("/api/v1/me/actions").json()["results"]
    }
    books = ScenarioFactory(
        merchant=MerchantFactory(region_id="420600"),
        points_cost=sum(points.values()),
        province_wide=True,
    )

    spent = linked_citizen_client.post(
        "/api/v1/redemptions",
        {"scenario_id": books.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="books-1",
    )
    from redemption.tasks import post_clearing

    post_clearing()  # nightly, after the settlements
    today = timezone.localdate()
    csv = (
        operator_client.get(f"/operators/clearing/{today:%Y-%m}.csv").content.decode().splitlines()
    )

    assert spent.status_code == 201, spent.content
    assert csv[0] == "month,kind,owes,to,points,yuan"
    net = {tuple(row.split(",")[2:5]) for row in csv[1:] if ",net," in row}
    assert net == {(WUHAN, "420600", str(points[WUHAN])), (YICHANG, "420600", str(points[YICHANG]))}
