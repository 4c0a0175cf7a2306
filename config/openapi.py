"""OpenAPI schema post-processing: the error answers every endpoint can give.

drf-spectacular documents only the success answer. Clients (and the schemathesis
fuzz test, ``config/tests/test_api_fuzz.py``) need every status the API really sends,
with its body: DRF's ``{"detail": "..."}``, or a field → messages object for a 400.
"""

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": "Messages per field name; `non_field_errors` or `detail` for the request as a whole.",
    "additionalProperties": {},
}
DESCRIPTIONS = {
    "400": "Invalid input (the body says which fields and why)",
    "401": "Not signed in, or an unknown token",
    "403": "This role, or this state of the object, does not allow it",
    "404": "No such object among those this user may see, or no such page",
    "415": "The body is not in a media type this operation reads",
}


def _error_statuses(method: str, operation: dict) -> list[str]:
    """Statuses the API can answer on top of the documented success."""
    parameters = operation.get("parameters", [])
    statuses = ["401", "403"]
    if method != "get" or parameters or "requestBody" in operation:
        statuses.append("400")
    if parameters:  # an object (or page) the user may not see, by path or by query
        statuses.append("404")
    if "requestBody" in operation:
        statuses.append("415")
    return statuses


def document_error_responses(result, generator, request, public):
    """Add 400/401/403/404/415 where they can happen, and give every documented error
    status without a body (a view's own 409 or 429, say) the standard error body."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("ValidationError", VALIDATION_ERROR)
    for path_item in result["paths"].values():
        for method, operation in path_item.items():
            responses = operation["responses"]
            for status in _error_statuses(method, operation):
                responses.setdefault(status, {"description": DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status >= "400" and "content" not in response:
                    name = "ValidationError" if status == "400" else "Error"
                    schema = {"$ref": f"#/components/schemas/{name}"}
                    response["content"] = {"application/json": {"schema": schema}}
    return result


def document_idempotency_key(result, generator, request, public):
    """Every POST that honours an ``Idempotency-Key`` (``config/idempotency.py``) takes
    the header, and may answer 409 (the first request with the key still runs) and 422
    (the key was used with another request). Operations that document the header
    themselves (the offline writes, with a UUID) keep theirs."""
    from .idempotency import HEADER, KEY_PATTERN, serves

    # drf-spectacular names a path's ``pk`` ``id`` (SCHEMA_COERCE_PATH_PK) after listing endpoints.
    callbacks = {
        (path.replace("{pk}", "{id}"), method.lower()): callback
        for path, _regex, method, callback in generator.endpoints
    }
    for path, path_item in result["paths"].items():
        operation = path_item.get("post")
        if operation is None or not serves(callbacks.get((path, "post"))):
            continue
        parameters = operation.setdefault("parameters", [])
        if not any(parameter["in"] == "header" and parameter["name"] == HEADER for parameter in parameters):
            parameters.append(
                {
                    "in": "header",
                    "name": HEADER,
                    "required": False,
                    "schema": {"type": "string", "pattern": f"^{KEY_PATTERN}$"},
                    "description": "A key the client made for this write (a UUID, say). "
                    "Sending the same request with it again answers with the first answer "
                    "(header `Idempotent-Replayed: true`) instead of writing twice; kept 24 hours.",
                }
            )
        responses = operation["responses"]
        responses.setdefault(
            "409",
            {"description": "The first request with this Idempotency-Key is still running (Retry-After)"},
        )
        responses.setdefault("422", {"description": "This Idempotency-Key was used with another request"})
    return result
