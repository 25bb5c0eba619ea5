"""The spend side's staff and citizen fixtures, for the limits and rights these tests prove."""

from tests.spend.conftest import (  # noqa: F401  (fixtures)
    _fast_passwords,
    cashier,
    cashier_client,
    make_citizen,
    manager,
    manager_client,
    merchant,
)
