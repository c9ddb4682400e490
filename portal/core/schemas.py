"""API schemas (接口模式) with pydantic: the one source of what an API endpoint accepts and answers.

Each endpoint declares a query model, a body model and a response type; `parse_query` and
`parse_body` validate every input against them at the edge (a refused value is a JSON 400/422
with the offending fields, never a 500), and `operation()` / `document()` build the OpenAPI 3.1
document from the same models, so the document cannot drift from the code. Every model and
field carries a description in Chinese and English (`Field(description="项目编码 · project code")`);
tests/api/test_openapi.py refuses one without.

Used by both faces: the portal's bearer-token API (portal.core.api) and the public site's
read-only API (public_site.api)."""
from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from portal.core.converters import DB_INTEGER_MAX  # noqa: F401  (re-exported)

REF = "#/components/schemas/{model}"
YEAR_MIN, YEAR_MAX = 2000, 2100  # 年度 window (the same default as core/parsing.py)
PAGE_MAX = 100_000  # beyond it no listing has rows; a bound keeps OFFSET inside the integer
PER_PAGE_MAX = 200
JSON_DEPTH_MAX = 32  # nesting of a request body (the bulk API needs 5)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("不能包含控制字符 · must not contain control characters")
    return value


# -- field types -------------------------------------------------------------------------------------
# Ids are INTEGER columns: 32-bit on PostgreSQL (a larger bound parameter is "integer out of
# range", a 500), so an API id is 1 … 2**31 − 1 whatever the URL converter lets through.
ID_MAX = 2**31 - 1
DbId = Annotated[int, Field(ge=1, le=ID_MAX)]
Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]
Month = Annotated[int, Field(ge=1, le=12)]
# Times are stored and answered as local China time without an offset (2026-10-28T09:00:00), which
# JSON Schema's "date-time" (RFC 3339, offset required) does not allow: documented by pattern.
LocalDateTime = Annotated[datetime, WithJsonSchema({
    "type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"})]


def Text(max_length: int, min_length: int = 0):  # noqa: N802  (a type factory)
    """A string without control characters (tab and newlines allowed) of at most `max_length`."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length),
                     AfterValidator(_no_control_characters)]


def _amount_in(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("金额应为数字或数字字符串 · an amount must be a number or a decimal string")
    return str(value).strip()


def _amount(value: str) -> str:
    number = Decimal(value)
    if not number.is_finite() or abs(number) >= Decimal(10) ** 14:
        raise ValueError("金额超出范围 · amount out of range")
    return format(number, "f")


# An amount in yuan: a decimal string (a JSON number is taken too), below 10^14; handed on as a string.
Amount = Annotated[str, BeforeValidator(_amount_in), Field(pattern=r"^-?\d{1,14}(\.\d{1,4})?$"),
                   AfterValidator(_amount)]


class Schema(BaseModel):
    """Base of every API model."""
    model_config = ConfigDict(extra="ignore", populate_by_name=True, use_attribute_docstrings=False)


class Query(Schema):
    """Base of query-string models: unknown parameters are ignored, empty values count as absent."""


class Body(Schema):
    """Base of request bodies: unknown members are refused."""
    model_config = ConfigDict(extra="forbid")


class PageQuery(Query):
    """分页参数 · paging parameters"""
    page: int = Field(1, ge=1, le=PAGE_MAX, description="页码，从 1 开始 · page number, from 1")
    per_page: int = Field(50, ge=1, le=PER_PAGE_MAX, description="每页条数 · items per page")

    def filter_args(self) -> dict[str, str]:
        """The filters the client gave, as the list page's query-string values (for its filter class)."""
        return {k: str(v) for k, v in self.model_dump(exclude={"page", "per_page"}, exclude_none=True).items()}


T = TypeVar("T")


class Page(Schema, Generic[T]):
    """一页结果 · one page of results"""
    model_config = ConfigDict(json_schema_extra={"description": "一页结果 · one page of results"})
    page: int = Field(description="页码 · page number")
    per_page: int = Field(description="每页条数 · items per page")
    total: int = Field(description="符合条件的总条数 · number of matching items")
    items: list[T] = Field(description="本页条目 · the items of this page")


class ErrorDetail(Schema):
    """错误内容 · the error"""
    code: str = Field(description="机器可读的错误代码 · machine-readable error code")
    message: str = Field(description="中文说明 · human-readable message (Chinese)")
    fields: dict[str, str] = Field(default_factory=dict, description=(
        "出错的参数或字段及原因（路径以点分隔） · offending parameters or fields (dotted paths) and why"))
    details: list[dict[str, Any]] | None = Field(None, description=(
        "批量请求中每一项的错误（index、field、message） · per-item errors of a bulk request"))


class Error(Schema):
    """错误响应 · error response"""
    error: ErrorDetail = Field(description="错误 · the error")


# -- request parsing ---------------------------------------------------------------------------------
class InvalidInput(Exception):
    """Raised by the parsers; the API layers answer it as JSON."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def error_fields(error: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in item["loc"]) or "body"
        out.setdefault(path, item["msg"])
    return out


def parse_query(model: type[Query], args) -> Query:
    """The query string through `model`: a list parameter takes every value, others the first;
    an empty value is absent. Any refused value is a 400 naming it."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        values = [v for v in args.getlist(key) if v.strip() != ""]
        if not values:
            continue
        data[key] = values if _is_list(info.annotation) else values[0]
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(400, "invalid_parameter", "查询参数不合法。 · Invalid query parameter.",
                           error_fields(error)) from None


def _is_list(annotation) -> bool:
    from typing import get_origin

    return get_origin(annotation) is list or (get_origin(annotation) is not None and any(
        get_origin(a) is list for a in getattr(annotation, "__args__", ())))


def parse_body(model: type[Body], request) -> Body:
    """The JSON body through `model`: not JSON is a 400, too deep or not matching is a 422."""
    raw = request.get_data(cache=True)  # a body over MAX_CONTENT_LENGTH raises 413 here
    if not raw.strip():
        raise InvalidInput(400, "bad_request", "请求体应为 JSON。 · The body must be JSON.")
    if _depth(raw) > JSON_DEPTH_MAX:
        raise InvalidInput(422, "validation_failed", "请求体嵌套过深。 · The body is nested too deeply.",
                           {"body": f"nesting deeper than {JSON_DEPTH_MAX}"})
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidInput(400, "bad_request", "请求体不是合法的 JSON。 · The body is not valid JSON.") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(422, "validation_failed", "请求内容不合法，未保存任何内容。 · Invalid body; nothing saved.",
                           error_fields(error)) from None


def _depth(raw: bytes) -> int:
    """Deepest bracket nesting outside strings, without parsing (json.loads would recurse)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > JSON_DEPTH_MAX:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def path_ids_in_range(values: dict) -> bool:
    """False when a path id cannot exist (beyond ID_MAX): the caller answers 404."""
    return all(not isinstance(v, int) or 0 <= v <= ID_MAX for v in values.values())


# -- the OpenAPI document ----------------------------------------------------------------------------
def schema_of(tp, components: dict, mode: str = "serialization") -> dict:
    """JSON Schema of a type for the document; models go to components and are referenced."""
    schema = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)
    components.update(schema.pop("$defs", {}))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        name = re.sub(r"[^A-Za-z0-9._-]", "", tp.__name__)  # Page[X] → PageX
        components[name] = schema
        return {"$ref": REF.format(model=name)}
    return schema


def query_parameters(model: type[Query] | None, components: dict) -> list[dict]:
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=REF, mode="validation")
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", "")
        prop.pop("title", None)
        params.append({"name": name, "in": "query", "required": name in required, "description": description,
                       "schema": prop, **({"style": "form", "explode": True} if prop.get("type") == "array" else {})})
    return params


_PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def openapi_path(rule: str) -> str:
    return _PATH_PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


def path_parameters(rule: str, descriptions: dict[str, str]) -> list[dict]:
    params = []
    for converter, name in _PATH_PARAM.findall(rule):
        schema = ({"type": "integer", "minimum": 1, "maximum": ID_MAX} if converter == "int"
                  else {"type": "string"})
        params.append({"name": name, "in": "path", "required": True, "schema": schema,
                       "description": descriptions.get(name, "编号 · id")})
    return params


ERROR_RESPONSES = {
    400: "参数不合法 · invalid parameter",
    401: "缺少或无效的 API 令牌 · missing or invalid token",
    403: "无权办理 · not permitted",
    404: "不存在或无权查看 · not found or not visible",
    405: "不支持该方法 · method not allowed",
    409: "数据已被他人修改或重复提交 · stale version or repeated request",
    413: "请求体过大 · body too large",
    422: "内容不合法或被规则拒绝 · invalid or refused",
    429: "请求过于频繁 · too many requests",
}


def operation(*, rule: str, summary: str, description: str = "", tags=(), query=None, body=None, response=None,
              path_descriptions: dict[str, str] | None = None, errors=(400, 404), components: dict,
              secured: bool = True, operation_id: str | None = None) -> dict:
    """One OpenAPI operation from the endpoint's models."""
    op: dict[str, Any] = {"summary": summary, "description": description or summary, "tags": list(tags),
                          "parameters": path_parameters(rule, path_descriptions or {})
                          + query_parameters(query, components)}
    if operation_id:
        op["operationId"] = operation_id
    if body is not None:
        op["requestBody"] = {"required": True, "description": (body.__doc__ or "").strip(),
                             "content": {"application/json": {"schema": schema_of(body, components, "validation")}}}
    ok = {"description": "成功 · OK"}
    if response is not None:
        ok["content"] = {"application/json": {"schema": schema_of(response, components)}}
    error = {"application/json": {"schema": schema_of(Error, components)}}
    # 429: every endpoint counts against its client's rate limit (portal/core/ratelimit.py)
    codes = set(errors) | {429} | ({401} if secured else set()) | ({422, 413} if body is not None else set())
    if query is not None or body is not None:
        codes.add(400)
    op["responses"] = {"200": ok, **{str(c): {"description": ERROR_RESPONSES[c], "content": error}
                                     for c in sorted(codes)}}
    op["responses"]["429"]["headers"] = {"Retry-After": {
        "description": "可重试前需等待的秒数 · seconds to wait before retrying", "schema": {"type": "integer"}}}
    return op


def document(*, title: str, description: str, paths: dict, components: dict, secured: bool) -> dict:
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0", "description": description},
        "paths": paths,
        "components": {"schemas": dict(sorted(components.items()))},
    }
    if secured:
        doc["components"]["securitySchemes"] = {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "门户“API 令牌”页面创建的令牌 · a token created on the portal's API tokens page"}}
        doc["security"] = [{"bearer": []}]
    return doc


def choice(enum_or_values):
    """A Literal of an enum's values (or of given strings): an enum in the document, anything else
    a 400/422 naming the allowed values."""
    values = tuple(m.value for m in enum_or_values) if isinstance(enum_or_values, type) else tuple(enum_or_values)
    return Literal[values]
