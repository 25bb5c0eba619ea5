"""The partner feed's rate limit: per partner, over all its signed calls."""

from carbonpoints.api.throttling import ScopedThrottle


class PartnerThrottle(ScopedThrottle):
    scope = "partner"

    def ident(self, request, view):
        partner = getattr(request.user, "partner", None)
        return partner.pk if partner is not None else None
