"""The OpenAPI schema's error answers. drf-spectacular documents only an operation's success;
the errors come from one place, ``core.exceptions.exception_handler`` (and DRF before it), so
they are documented in one place too, from what the view is: its authenticators (401), its
permissions and CSRF (403), its lookups and pagination (404), its input (400, 413, 415), the
state its writes depend on (409), its throttles (429) and the database (503). An operation's
own ``@extend_schema(responses=...)`` for a code wins over these.

Wired by SPECTACULAR_SETTINGS["DEFAULT_GENERATOR_CLASS"] (``SchemaGenerator`` below), which
puts ``ErrorResponses`` in front of whatever schema class a view has, the ones drf-spectacular
builds for ``@extend_schema`` included."""

from __future__ import annotations

from drf_spectacular.generators import SchemaGenerator as SpectacularSchemaGenerator
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance, is_serializer
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.relations import PrimaryKeyRelatedField

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Input fields that name an object by id: one that does not exist or is not the caller's is
# 404, as in a path.
OBJECT_REFERENCES = {"booking", "counselor", "resource", "flag", "offer", "request"}

ERROR = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "A stable machine-readable reason."},
    },
    "required": ["detail"],
}
# DRF's validation answer: each field (or non_field_errors) with its messages, nested for a
# nested input; a check of the whole input can also answer a bare list of messages.
VALIDATION_ERROR = {
    "oneOf": [
        {"type": "object", "additionalProperties": {}},
        {"type": "array", "items": {"type": "string"}},
    ]
}


class ErrorResponses:
    """Mixed in front of a drf-spectacular AutoSchema: the error answers of the operation."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            # Django's <int:…> converter matches digits only: "-1" is no URL of the API at all.
            if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                parameter["schema"]["minimum"] = 0
        responses = operation["responses"]
        for code, description, schema_name in self._error_responses(operation):
            if code not in responses:
                responses[code] = {
                    "description": description,
                    "content": {"application/json": {"schema": self._component(schema_name)}},
                }
        return operation

    def _component(self, name: str) -> dict:
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            object=name,
            schema=VALIDATION_ERROR if name == "ValidationError" else ERROR,
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _error_responses(self, operation: dict):
        view = self.view
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        permissions = view.get_permissions()
        authenticators = view.get_authenticators()
        if has_body or any(p["in"] == "query" for p in parameters) or self.method in UNSAFE:
            yield "400", "The input is not valid (each field with its messages).", "ValidationError"
        if authenticators:
            # Even where anyone may call, a wrong or revoked token is refused.
            yield "401", "Not signed in, or the token is not valid.", "Error"
        csrf = self.method in UNSAFE and any(
            isinstance(a, SessionAuthentication) for a in authenticators
        )
        # Beyond the role checks of the permission classes, services refuse by PermissionDenied.
        if csrf or not all(isinstance(p, AllowAny) for p in permissions):
            yield "403", "This role may not do this (or, by cookie, no CSRF token).", "Error"
        if (
            any(p["in"] == "path" for p in parameters)
            or self._paginated()
            or (has_body and self._names_objects())
        ):
            yield "404", "No such object, or not yours (or no such page).", "Error"
        if self.method in UNSAFE:
            yield "409", "Valid, but the current state does not allow it.", "Error"
        if has_body:
            yield "413", "The body is over its limit.", "Error"
            yield "415", "The body's media type is not accepted.", "Error"
        if view.get_throttles():
            yield "429", "Too many requests; wait as Retry-After says.", "Error"
        yield "503", "The database is briefly unavailable; retry after Retry-After.", "Error"

    def _names_objects(self) -> bool:
        serializer = (
            force_instance(self.get_request_serializer()) if self.method in UNSAFE else None
        )
        fields = getattr(serializer, "fields", None) if is_serializer(serializer) else None
        return bool(fields) and any(
            name in OBJECT_REFERENCES or isinstance(field, PrimaryKeyRelatedField)
            for name, field in fields.items()
            if not field.read_only
        )

    def _paginated(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None


class AutoSchema(ErrorResponses, SpectacularAutoSchema):
    """For a view that names its schema class."""


class SchemaGenerator(SpectacularSchemaGenerator):
    def create_view(self, callback, method, request=None):
        view = super().create_view(callback, method, request)
        schema = getattr(view, "schema", None)
        # view.schema may be a weak proxy: __class__ is the class of what it points to.
        schema_class = getattr(schema, "__class__", None)
        if (
            schema_class is not None
            and issubclass(schema_class, SpectacularAutoSchema)
            and not issubclass(schema_class, ErrorResponses)
        ):
            with_errors = type(schema_class.__name__, (ErrorResponses, schema_class), {})
            self._set_schema_to_view(view, with_errors())
        return view
