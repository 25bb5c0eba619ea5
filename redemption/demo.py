"""Demo merchants and their managers."""

from collections.abc import Callable

from accounts.models import User

from .models import Merchant
from .services import merchant_create

MERCHANTS = [
    ("绿色便利店 Green Mart", "manager@greenmart.demo.carbonpoints.cn"),
    ("骑行咖啡 Cycle Café", "manager@cyclecafe.demo.carbonpoints.cn"),
]


def seed(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    for name, manager_email in MERCHANTS:
        if Merchant.objects.filter(name=name).exists():
            continue
        merchant_create(name=name, manager_email=manager_email)
        manager = User.objects.get(email=manager_email)
        manager.set_password(password)
        manager.save(update_fields=["password"])
    log(f"{len(MERCHANTS)} merchants")
    return {"merchant": MERCHANTS[0][1]}
