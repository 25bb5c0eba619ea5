"""The spend side's staff and citizen fixtures, for the limits and rights these tests prove."""

from tests.earn.conftest import _catalogue, _city_budget  # noqa: F401,E402  (methodologies back after a flush)
from tests.spend.conftest import (  # noqa: F401  (fixtures)
    _fast_passwords,
    cashier,
    cashier_client,
    make_citizen,
    manager,
    manager_client,
    merchant,
)
