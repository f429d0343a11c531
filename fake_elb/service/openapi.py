"""The OpenAPI 3.0 document of the fake's API, derived from the rule tables.

Each request model is a pydantic model built from a rule table (``rules.listener``,
``rules.healthcheck``, ``rules.certificate``: type, range, length, enum, pattern, required,
updatable), so the document cannot drift from the rules the
fake enforces. Members and their jobs have no table: their shapes are written out here.
Served by ``fake-elb serve`` at ``/openapi.json``. Cross-field rules
cannot be expressed per field; they answer 400. A field that does not apply to the listener
is ignored (shown as null), as the real service does; ``fake-elb serve --strict`` refuses it.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, create_model

from otc_elb_listener.rules import certificate, healthcheck, machinery
from otc_elb_listener.rules import listener as listener_rules
from otc_elb_listener.rules.machinery import ALWAYS, ID_RE
from otc_elb_listener.rules.table import RuleTable


def _annotation(field: machinery.Field) -> Any:
    if field.kind is int:
        return Annotated[StrictInt, Field(ge=field.minimum, le=field.maximum)]
    if field.kind is bool:
        return StrictBool
    if field.kind is list:
        certificate_id = Annotated[StrictStr, Field(pattern=f"^{ID_RE.pattern}$")]
        return list[certificate_id]
    if field.choices is not None:
        return Literal[field.choices]
    constraints: dict[str, Any] = {"min_length": field.minimum, "max_length": field.maximum}
    if field.pattern is not None:
        constraints["pattern"] = f"^{field.pattern.pattern}$"
    return Annotated[StrictStr, Field(**constraints)]


def _model(name: str, fields: dict[str, tuple[Any, Any]]) -> type[BaseModel]:
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)  # type: ignore[call-overload, no-any-return]


def _described(field: machinery.Field) -> Any:
    text = field.doc if field.applies is ALWAYS else \
        f"{field.doc} Only with {field.applies.describe()}; ignored (null) otherwise."
    return Field(..., description=text) if field.required else Field(None, description=text)


def _create_model(name: str, fields: Any, **extra: tuple[Any, Any]) -> type[BaseModel]:
    return _model(name, {
        **{key: (_annotation(f) if f.required else _annotation(f) | None, _described(f))
           for key, f in fields.items()}, **extra})


def _update_model(name: str, fields: Any, **extra: tuple[Any, Any]) -> type[BaseModel]:
    return _model(name, {**{key: (_annotation(f) | None, Field(None, description=f.doc))
                            for key, f in fields.items() if f.updatable}, **extra})


ListenerCreate = _create_model("ListenerCreate", listener_rules.FIELDS, admin_state_up=(
    StrictBool | None, Field(None, description="Accepted and ignored: a new listener is "
                             "always up.")))
ListenerUpdate = _update_model("ListenerUpdate", listener_rules.FIELDS)
HealthCheckCreate = _create_model("HealthCheckCreate", healthcheck.FIELDS)
HealthCheckUpdate = _update_model("HealthCheckUpdate", healthcheck.FIELDS, healthcheck_protocol=(
    Literal[healthcheck.PUT_PROTOCOLS] | None, Field(None, description="HTTP or TCP (a PUT "
                                                     "cannot set UDP); any case.")))
CertificateCreate = _create_model("CertificateCreate", certificate.FIELDS)
CertificateUpdate = _update_model("CertificateUpdate", certificate.FIELDS, domain=(
    StrictStr | None, Field(None, description="Accepted and ignored, as the service does "
                            "(production clients send it in every PUT); strict mode refuses "
                            "it.")))


class ErrorDetail(BaseModel):
    code: str = Field(description="ELB error code, e.g. ELB.6041")
    message: str = Field(description="The field and the rule it broke")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _listener_schema() -> dict[str, Any]:
    """The response object: every field, ``null`` where it does not apply."""
    properties: dict[str, Any] = {
        "id": {"type": "string", "pattern": f"^{ID_RE.pattern}$"},
        "status": {"type": "string", "enum": ["ACTIVE", "PENDING_CREATE", "ERROR"]},
        "admin_state_up": {"type": "boolean"},
        "healthcheck_id": {"type": "string", "nullable": True},
        "member_number": {"type": "integer", "nullable": True},
        "create_time": {"type": "string"},
        "update_time": {"type": "string"},
    }
    kinds = {int: "integer", bool: "boolean", str: "string"}
    for name, field in listener_rules.FIELDS.items():
        if field.kind is list:
            properties[name] = _nullable({"type": "array", "items": {"type": "string"}})
        else:
            properties[name] = _nullable({"type": kinds[field.kind]})
    return {"type": "object", "properties": properties, "required":
            list(listener_rules.RESPONSE_FIELDS),
            "additionalProperties": False}


def _object_schema(table: RuleTable, response_fields: tuple[str, ...],
                   **extra: dict[str, Any]) -> dict[str, Any]:
    """A health check's or a certificate's response object: every field of its table."""
    kinds = {int: "integer", bool: "boolean", str: "string"}
    properties: dict[str, Any] = {
        "id": {"type": "string", "pattern": f"^{ID_RE.pattern}$"},
        **{name: _nullable({"type": kinds[field.kind]}) for name, field in table.fields.items()},
        "create_time": {"type": "string"}, "update_time": {"type": "string"}, **extra}
    return {"type": "object", "properties": properties, "required": list(response_fields)}


_MEMBER: dict[str, Any] = {"type": "object", "required": [
    "id", "server_id", "server_address", "address", "status", "health_status", "listeners"],
    "properties": {
        "id": {"type": "string"}, "server_id": {"type": "string"},
        "server_address": {"type": "string", "description": "the ECS's private address"},
        "address": {"type": "string", "description": "an address from 100.64.0.0/10"},
        "status": {"type": "string"},
        "health_status": {"type": "string", "enum": ["NORMAL", "ABNORMAL", "UNAVAILABLE"]},
        "server_name": {"type": "string", "nullable": True},
        "create_time": {"type": "string"}, "update_time": {"type": "string"},
        "listeners": {"type": "array", "items": {"type": "object", "required": ["id"],
                                                 "properties": {"id": {"type": "string"}}}}}}
_JOB_ANSWER: dict[str, Any] = {"type": "object", "required": ["uri", "job_id"], "properties": {
    "uri": {"type": "string", "description": "/v1/{project_id}/jobs/{job_id}: /v1/, as the "
            "service says; clients build /v1.0/ themselves"},
    "job_id": {"type": "string"}}}
_JOB: dict[str, Any] = {"type": "object", "required": [
    "status", "job_id", "job_type", "begin_time", "end_time", "entities", "error_code",
    "fail_reason"], "properties": {
        "status": {"type": "string", "enum": ["INIT", "RUNNING", "SUCCESS", "FAIL"]},
        "job_id": {"type": "string"},
        "job_type": {"type": "string", "enum": ["createMember", "removeMember"]},
        "begin_time": {"type": "string"}, "end_time": {"type": "string"},
        "entities": {"type": "object"},
        "error_code": {"type": "string", "nullable": True},
        "fail_reason": {"type": "string", "nullable": True}}}


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
    return {
        "openapi": "3.0.3",
        "info": {"title": "Classic ELB (v1.0) API — fake-elb", "version": "1.0"},
        "paths": {**_listener_paths(), **_healthcheck_paths(), **_certificate_paths(),
                  **_member_paths()},
        "components": {
            "schemas": {"ListenerCreate": _schema_of(ListenerCreate),
                        "ListenerUpdate": _schema_of(ListenerUpdate),
                        "Listener": _listener_schema(),
                        "HealthCheckCreate": _schema_of(HealthCheckCreate),
                        "HealthCheckUpdate": _schema_of(HealthCheckUpdate),
                        "HealthCheck": _object_schema(healthcheck.TABLE,
                                                      healthcheck.RESPONSE_FIELDS),
                        "CertificateCreate": _schema_of(CertificateCreate),
                        "CertificateUpdate": _schema_of(CertificateUpdate),
                        "Certificate": _object_schema(certificate.TABLE,
                                                      certificate.RESPONSE_FIELDS,
                                                      tenant_id={"type": "string"}),
                        "Member": _MEMBER, "JobAnswer": _JOB_ANSWER, "Job": _JOB,
                        "ErrorBody": {"type": "object", "required": ["error"],
                                      "properties": {"error": _schema_of(ErrorDetail)}}},
            "securitySchemes": {"token": {"type": "apiKey", "in": "header",
                                          "name": "X-Auth-Token"}}},
        "security": [{"token": []}],
    }


_PROJECT: dict[str, Any] = {"name": "project_id", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}
_LISTENER: dict[str, Any] = {"name": "listener_id", "in": "path", "required": True,
                             "schema": {"type": "string", "pattern": f"^{ID_RE.pattern}$"}}


def _listener_paths() -> dict[str, Any]:
    project, listener = _PROJECT, _LISTENER
    filters = [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
               for name in listener_rules.RESPONSE_FIELDS]
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
    return {"/v1.0/{project_id}/elbaas/listeners": collection,
            "/v1.0/{project_id}/elbaas/listeners/{listener_id}": item}


def _answer(description: str, schema: str | dict[str, Any]) -> dict[str, Any]:
    body = {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
    return {"description": description, "content": {"application/json": {"schema": body}}}


def _body(schema: str | dict[str, Any]) -> dict[str, Any]:
    body = {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
    return {"required": True, "content": {"application/json": {"schema": body}}}


def _item_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_MISSING = {"404": _error("no such object (ELB.7020, ELB.5040, ELB.8904)")}
_LARGE = {"413": _error("ELB.1001: body over 1 MiB")}


def _healthcheck_paths() -> dict[str, Any]:
    """A listener's health check (docs/api-rules.md, "A listener's health check")."""
    return {
        "/v1.0/{project_id}/elbaas/healthcheck": {"parameters": [_PROJECT], "post": {
            "operationId": "createHealthCheck", "summary": "Create a listener's health check",
            "requestBody": _body("HealthCheckCreate"),
            "responses": {"200": _answer("the new health check", "HealthCheck"),
                          **_COMMON_ERRORS, **_LARGE}}},
        "/v1.0/{project_id}/elbaas/healthcheck/{healthcheck_id}": {
            "parameters": [_PROJECT, _item_id("healthcheck_id")],
            "get": {"operationId": "getHealthCheck", "summary": "Get a health check",
                    "responses": {"200": _answer("the health check", "HealthCheck"),
                                  **_COMMON_ERRORS, **_MISSING}},
            "put": {"operationId": "updateHealthCheck", "summary": "Modify a health check",
                    "requestBody": _body("HealthCheckUpdate"),
                    "responses": {"200": _answer("the modified health check", "HealthCheck"),
                                  **_COMMON_ERRORS, **_MISSING, **_LARGE}},
            "delete": {"operationId": "deleteHealthCheck", "summary": "Delete a health check",
                       "responses": {"204": {"description": "deleted"}, **_COMMON_ERRORS,
                                     **_MISSING}}},
    }


def _certificate_paths() -> dict[str, Any]:
    """Certificates (section 4): no GET of one, the list answers an object."""
    certificates = {"type": "object", "required": ["certificates", "instance_num"],
                    "properties": {"certificates": {"type": "array", "items": {
                        "$ref": "#/components/schemas/Certificate"}},
                        "instance_num": {"type": "string"}}}
    return {
        "/v1.0/{project_id}/elbaas/certificate": {"parameters": [_PROJECT], "get": {
            "operationId": "listCertificates", "summary": "List certificates",
            "responses": {"200": _answer("the certificates", certificates), **_COMMON_ERRORS}},
            "post": {"operationId": "createCertificate", "summary": "Upload a certificate",
                     "requestBody": _body("CertificateCreate"),
                     "responses": {"200": _answer("the new certificate (the key echoed)",
                                                  "Certificate"), **_COMMON_ERRORS, **_LARGE}}},
        "/v1.0/{project_id}/elbaas/certificate/{certificate_id}": {
            "parameters": [_PROJECT, _item_id("certificate_id")],
            "put": {"operationId": "updateCertificate", "summary": "Rename a certificate",
                    "requestBody": _body("CertificateUpdate"),
                    "responses": {"200": _answer("the certificate", "Certificate"),
                                  **_COMMON_ERRORS, **_MISSING, **_LARGE}},
            "delete": {"operationId": "deleteCertificate", "summary": "Delete a certificate",
                       "responses": {"204": {"description": "deleted"}, **_COMMON_ERRORS,
                                     **_MISSING}}},
    }


def _member_paths() -> dict[str, Any]:
    """Members and their jobs (sections 2 and 3): add and remove answer a job."""
    member_items = {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["server_id", "address"], "properties": {
            "server_id": {"type": "string", "minLength": 1},
            "address": {"type": "string", "format": "ipv4"}}}}
    removal = {"type": "object", "required": ["removeMember"], "properties": {
        "removeMember": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}}}
    job_errors = {**_COMMON_ERRORS, "404": _error("ELB.8904: no such listener")}
    members = {"type": "array", "items": {"$ref": "#/components/schemas/Member"}}
    return {
        "/v1.0/{project_id}/elbaas/listeners/{listener_id}/members": {
            "parameters": [_PROJECT, _LISTENER],
            "get": {"operationId": "listMembers", "summary": "List a listener's members",
                    "parameters": [
                        {"name": "limit", "in": "query", "required": False,
                         "description": "members per page (a page shorter than this is the "
                                        "last)",
                         "schema": {"type": "integer", "minimum": 1}},
                        {"name": "marker", "in": "query", "required": False,
                         "description": "the ID of the last member of the page before",
                         "schema": {"type": "string"}}],
                    "responses": {"200": _answer("the members ({} in the empty-list mode)",
                                                 members), **job_errors,
                                  "400": _error("ELB.1001 a bad limit or an unknown marker; "
                                                "ELB.2003 not a field to filter on")}},
            "post": {"operationId": "addMembers", "summary": "Add members: a job",
                     "requestBody": _body(member_items),
                     "responses": {"200": _answer("the job", "JobAnswer"), **job_errors,
                                   "403": _error("ELB.1102 token missing, or ELB.2001 quota"),
                                   **_LARGE}}},
        "/v1.0/{project_id}/elbaas/listeners/{listener_id}/members/action": {
            "parameters": [_PROJECT, _LISTENER],
            "post": {"operationId": "removeMembers", "summary": "Remove members: a job",
                     "requestBody": _body(removal),
                     "responses": {"200": _answer("the job", "JobAnswer"), **job_errors,
                                   **_LARGE}}},
        "/v1.0/{project_id}/jobs/{job_id}": {
            "parameters": [_PROJECT, _item_id("job_id")],
            "get": {"operationId": "getJob", "summary": "A member job's status",
                    "responses": {"200": _answer("the job", "Job"), **_COMMON_ERRORS,
                                  "404": _error("ELB.8904: no such job")}}},
    }
