from tests.earn.conftest import _catalogue, _city_budget, bikes, link, linked_citizen_client, metro  # noqa: F401  (the earn side's fixtures)
