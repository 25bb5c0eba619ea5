"""The earn side's fixtures (signed partner, linked citizen), shared with the PIPL tests."""

from tests.earn.conftest import _catalogue, _city_budget, link, linked_citizen_client, metro  # noqa: F401
