from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's app token (``X-Session-Token``); a request without one is answered 401, not 403."""

    def authenticate_header(self, request) -> str:
        return "X-Session-Token"
