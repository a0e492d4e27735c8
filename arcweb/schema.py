"""How the OpenAPI schema describes API-key authentication."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "arcweb.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "arc_<prefix>_<secret>",
                "description": "An organisation's API key, created in Settings or with "
                               "`manage.py create_api_key`. `X-API-Key: <key>` works too."}
