"""The OpenAPI 3.0 document of the fake's listener API, derived from the rule table.

Each request model is a pydantic model built from :data:`otc_elb_listener.spec.FIELDS` (type,
range, length, enum, pattern, required, updatable), so the document cannot drift from the
rules the fake enforces. Served by ``fake-elb serve`` at ``/openapi.json``. Cross-field rules
cannot be expressed per field; they answer 400. A field that does not apply to the listener
is ignored (shown as null), as the real service does; ``fake-elb serve --strict`` refuses it.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, create_model

from otc_elb_listener import spec


def _annotation(field: spec.Field) -> Any:
    if field.kind is int:
        return Annotated[StrictInt, Field(ge=field.minimum, le=field.maximum)]
    if field.kind is bool:
        return StrictBool
    if field.kind is list:
        certificate_id = Annotated[StrictStr, Field(pattern=f"^{spec.ID_RE.pattern}$")]
        return list[certificate_id]
    if field.choices is not None:
        return Literal[field.choices]
    constraints: dict[str, Any] = {"min_length": field.minimum, "max_length": field.maximum}
    if field.pattern is not None:
        constraints["pattern"] = f"^{field.pattern.pattern}$"
    return Annotated[StrictStr, Field(**constraints)]


def _model(name: str, fields: dict[str, tuple[Any, Any]]) -> type[BaseModel]:
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)  # type: ignore[call-overload, no-any-return]


def _described(field: spec.Field) -> Any:
    text = field.doc if field.applies is spec.ALWAYS else \
        f"{field.doc} Only with {field.applies.describe()}; ignored (null) otherwise."
    return Field(..., description=text) if field.required else Field(None, description=text)


ListenerCreate = _model("ListenerCreate", {
    **{name: (_annotation(f) if f.required else _annotation(f) | None, _described(f))
       for name, f in spec.FIELDS.items()},
    "admin_state_up": (StrictBool | None, Field(None, description="Accepted and ignored: a "
                                                "new listener is always up.")),
})
ListenerUpdate = _model("ListenerUpdate", {
    name: (_annotation(f) | None, Field(None, description=f.doc))
    for name, f in spec.FIELDS.items() if f.updatable})


class ErrorDetail(BaseModel):
    code: str = Field(description="ELB error code, e.g. ELB.6041")
    message: str = Field(description="The field and the rule it broke")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _listener_schema() -> dict[str, Any]:
    """The response object: every field, ``null`` where it does not apply."""
    properties: dict[str, Any] = {
        "id": {"type": "string", "pattern": f"^{spec.ID_RE.pattern}$"},
        "status": {"type": "string", "enum": ["ACTIVE", "PENDING_CREATE", "ERROR"]},
        "admin_state_up": {"type": "boolean"},
        "healthcheck_id": {"type": "string", "nullable": True},
        "member_number": {"type": "integer", "nullable": True},
        "create_time": {"type": "string"},
        "update_time": {"type": "string"},
    }
    kinds = {int: "integer", bool: "boolean", str: "string"}
    for name, field in spec.FIELDS.items():
        if field.kind is list:
            properties[name] = _nullable({"type": "array", "items": {"type": "string"}})
        else:
            properties[name] = _nullable({"type": kinds[field.kind]})
    return {"type": "object", "properties": properties, "required": list(spec.RESPONSE_FIELDS),
            "additionalProperties": False}


def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """pydantic's JSON Schema, in the OpenAPI 3.0 dialect (``nullable``, no ``anyOf`` null)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            options = node.get("anyOf")
            if isinstance(options, list) and {"type": "null"} in options:
                rest = [o for o in options if o != {"type": "null"}]
                merged = {k: v for k, v in node.items() if k != "anyOf"}
                if len(rest) == 1:
                    merged.update(rest[0])
                else:
                    merged["anyOf"] = rest
                node = merged
            if "const" in node:
                node = {**{k: v for k, v in node.items() if k != "const"},
                        "enum": [node["const"]]}
            return {k: fix(v) for k, v in node.items()
                    if not (k == "default" and v is None)}
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    fixed: dict[str, Any] = fix(schema)
    fixed.pop("title", None)
    return fixed


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/ErrorBody"}}}}


def _listener_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Listener"}}}}


_COMMON_ERRORS = {
    "400": _error("a rule broken (the message names the field and the rule)"),
    "401": _error("ELB.1103: token invalid or expired"),
    "403": _error("ELB.1102: token missing"),
}


@functools.lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole OpenAPI 3.0.3 document (built once)."""
    project = {"name": "project_id", "in": "path", "required": True,
               "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}
    listener = {"name": "listener_id", "in": "path", "required": True,
                "schema": {"type": "string", "pattern": f"^{spec.ID_RE.pattern}$"}}
    filters = [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
               for name in spec.RESPONSE_FIELDS]
    json_body = {"required": True, "content": {"application/json": {"schema": {}}}}
    collection = {
        "parameters": [project],
        "post": {
            "operationId": "createListener", "summary": "Create a listener",
            "requestBody": {**json_body, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ListenerCreate"}}}},
            "responses": {"200": _listener_answer("the new listener"), **_COMMON_ERRORS,
                          "403": _error("ELB.1102 token missing, or ELB.6091 quota"),
                          "413": _error("ELB.1001: body over 1 MiB")}},
        "get": {
            "operationId": "listListeners", "summary": "List listeners (filters on fields)",
            "parameters": filters,
            "responses": {"200": {"description": "the listeners", "content": {
                "application/json": {"schema": {"type": "array", "items": {
                    "$ref": "#/components/schemas/Listener"}}}}}, **_COMMON_ERRORS}},
    }
    item = {
        "parameters": [project, listener],
        "get": {"operationId": "getListener", "summary": "Get a listener",
                "responses": {"200": _listener_answer("the listener"), **_COMMON_ERRORS,
                              "404": _error("no such listener")}},
        "put": {"operationId": "updateListener", "summary": "Modify a listener",
                "requestBody": {**json_body, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ListenerUpdate"}}}},
                "responses": {"200": _listener_answer("the modified listener"),
                              **_COMMON_ERRORS, "404": _error("no such listener"),
                              "413": _error("ELB.1001: body over 1 MiB")}},
        "delete": {"operationId": "deleteListener", "summary": "Delete a listener",
                   "responses": {"204": {"description": "deleted"}, **_COMMON_ERRORS,
                                 "503": _error("ELB.6002: the listener does not exist (what "
                                               "the real service answers)")}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Classic ELB (v1.0) listener API — fake-elb", "version": "1.0"},
        "paths": {"/v1.0/{project_id}/elbaas/listeners": collection,
                  "/v1.0/{project_id}/elbaas/listeners/{listener_id}": item},
        "components": {
            "schemas": {"ListenerCreate": _schema_of(ListenerCreate),
                        "ListenerUpdate": _schema_of(ListenerUpdate),
                        "Listener": _listener_schema(),
                        "ErrorBody": {"type": "object", "required": ["error"],
                                      "properties": {"error": _schema_of(ErrorDetail)}}},
            "securitySchemes": {"token": {"type": "apiKey", "in": "header",
                                          "name": "X-Auth-Token"}}},
        "security": [{"token": []}],
    }
