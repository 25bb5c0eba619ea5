"""How the OpenAPI schema describes the partner signature (X-CP-* headers)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PartnerSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "carbonpoints.earn.authentication.PartnerSignatureAuthentication"
    name = "partnerSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-CP-Signature",
            "description": "HMAC-SHA256 request signature with X-CP-Key and X-CP-Timestamp; see docs/partners.md.",
        }
