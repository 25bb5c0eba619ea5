"""Demo people: an operator and a few hundred citizens."""

from collections.abc import Callable

from .models import Role, User
from .services import citizen_create, citizen_ranks_recompute

OPERATOR_EMAIL = "operator@demo.carbonpoints.cn"
CITIZEN_EMAIL = "citizen{n}@demo.carbonpoints.cn"


def demo_citizens(count: int) -> list[User]:
    return list(
        User.objects.filter(email__endswith="@demo.carbonpoints.cn", role=Role.CITIZEN).order_by(
            "id"
        )[:count]
    )


def seed(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    if not User.objects.filter(email=OPERATOR_EMAIL).exists():
        User.objects.create_superuser(
            email=OPERATOR_EMAIL, password=password, display_name="运营 Operator"
        )
    existing = set(
        User.objects.filter(email__endswith="@demo.carbonpoints.cn").values_list("email", flat=True)
    )
    created = 0
    for n in range(1, citizens + 1):
        email = CITIZEN_EMAIL.format(n=n)
        if email not in existing:
            citizen_create(
                email=email, password=password if n <= 5 else None, display_name=f"市民{n:03d}"
            )
            created += 1
    log(f"{created} citizens created, {citizens - created} already there")
    return {"operator": OPERATOR_EMAIL, "citizen": CITIZEN_EMAIL.format(n=1)}


def rank(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    log(f"{citizen_ranks_recompute()} citizens ranked")
    return {}
