from tests.earn.conftest import _catalogue  # noqa: F401,E402  (methodologies back after a flush)
from tests.spend.conftest import (  # noqa: F401  (fixtures)
    _fast_passwords,
    manager,
    manager_client,
    merchant,
)
