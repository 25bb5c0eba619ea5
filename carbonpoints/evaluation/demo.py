"""Demo evaluation: every citizen's standing, the badges they earned, a few on the leaderboard."""

from collections.abc import Callable

from accounts.demo import demo_citizens
from accounts.services import citizen_standings_recompute

from .models import LeaderboardEntry
from .services import badges_award, leaderboard_join

NICKNAMES = [
    "绿色通勤者",
    "Metro Max",
    "骑行小王",
    "Low-carbon Li",
    "步行达人",
    "EV Zhou",
    "公交迷",
    "Green Bee",
]


def seed(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    log(f"{citizen_standings_recompute()} standings, {badges_award()} badges awarded")
    if not LeaderboardEntry.objects.exists():
        for user, nickname in zip(demo_citizens(len(NICKNAMES)), NICKNAMES, strict=False):
            leaderboard_join(account=user.carbon_account, nickname=nickname)
        log(f"{len(NICKNAMES)} citizens on the leaderboard")
    return {}
