"""JSON schemas of a project's models, read statically: pydantic models, DRF serializers, marshmallow schemas.

Each model becomes a component (`#/components/schemas/Name`) the operations reference
with `$ref`, named as the framework's own generator names it (FastAPI: the class name; drf-
spectacular: the serializer's name less `Serializer`; apispec: the schema's name less
`Schema`). What is read:

- pydantic: the annotated fields of the class and its project bases, in order; a field
  without a default is required (`Field(...)` too), `Field(alias=...)` names the property,
  `ge`/`le`/`gt`/`lt`/`min_length`/`max_length`/`pattern`/`description` become keywords;
  `X | None`/`Optional[X]` is `anyOf: [X, {type: null}]` as pydantic writes it; `list[X]`,
  `dict[str, X]`, `Literal[...]`, enums (their literal values), nested models (by `$ref`),
  `datetime`, `date`, `UUID`, `EmailStr`, `HttpUrl`, `Decimal` as pydantic renders them.
- DRF: the declared fields (with BB207's field facts: nested serializers, `many=True`,
  `source=`), `read_only`/`write_only`/`required=False`/`allow_null`, and for a
  ModelSerializer the model fields its `Meta.fields` names (or every model field for
  `"__all__"`), typed where the model field's class says so.
- marshmallow: `fields.*` declared on the schema and its project bases, `required=True`,
  `data_key`, `load_only`/`dump_only`, `Nested`/`List`.

A type backbone can't read becomes `{}` (any value), never a guess.
"""

from __future__ import annotations

import ast

import msgspec

from backbone.contract.definitions import Definitions
from backbone.contract.spec import JSONObject
from backbone.review.serialization.knowledge import Family, SerializationKnowledge

_MAX_DEPTH = 12
_PRIMITIVES: dict[str, JSONObject] = {
    "int": {"type": "integer"}, "str": {"type": "string"}, "float": {"type": "number"}, "bool": {"type": "boolean"},
    "bytes": {"type": "string", "format": "binary"}, "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"}, "time": {"type": "string", "format": "time"},
    "timedelta": {"type": "string", "format": "duration"}, "UUID": {"type": "string", "format": "uuid"},
    "UUID4": {"type": "string", "format": "uuid4"}, "EmailStr": {"type": "string", "format": "email"},
    "HttpUrl": {"type": "string", "format": "uri", "minLength": 1, "maxLength": 2083},
    "AnyUrl": {"type": "string", "format": "uri", "minLength": 1}, "Decimal": {"anyOf": [{"type": "number"}, {"type": "string"}]},
    "Any": {}, "object": {}, "dict": {"type": "object"}, "Dict": {"type": "object"}, "list": {"type": "array", "items": {}},
    "List": {"type": "array", "items": {}}, "Json": {}, "SecretStr": {"type": "string", "format": "password", "writeOnly": True},
}
_CONSTRAINTS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum",
                "min_length": "minLength", "max_length": "maxLength", "pattern": "pattern", "regex": "pattern",
                "description": "description", "title": "title", "examples": "examples", "min_items": "minItems",
                "max_items": "maxItems"}
_ENUM_BASES = frozenset({"Enum", "StrEnum", "IntEnum", "enum.Enum", "enum.StrEnum", "enum.IntEnum"})
_DRF_TYPES: dict[str, JSONObject] = {
    "CharField": {"type": "string"}, "EmailField": {"type": "string", "format": "email"}, "SlugField": {"type": "string"},
    "URLField": {"type": "string", "format": "uri"}, "UUIDField": {"type": "string", "format": "uuid"},
    "RegexField": {"type": "string"}, "IPAddressField": {"type": "string"}, "IntegerField": {"type": "integer"},
    "FloatField": {"type": "number", "format": "double"}, "DecimalField": {"type": "string", "format": "decimal"},
    "BooleanField": {"type": "boolean"}, "NullBooleanField": {"type": "boolean"},
    "DateTimeField": {"type": "string", "format": "date-time"}, "DateField": {"type": "string", "format": "date"},
    "TimeField": {"type": "string", "format": "time"}, "DurationField": {"type": "string"}, "ListField": {"type": "array", "items": {}},
    "DictField": {"type": "object"}, "HStoreField": {"type": "object"}, "JSONField": {}, "FileField": {"type": "string", "format": "uri"},
    "ImageField": {"type": "string", "format": "uri"}, "PrimaryKeyRelatedField": {"type": "integer"},
    "HyperlinkedRelatedField": {"type": "string", "format": "uri"}, "HyperlinkedIdentityField": {"type": "string", "format": "uri"},
    "SlugRelatedField": {"type": "string"}, "StringRelatedField": {"type": "string"}, "ReadOnlyField": {},
    "SerializerMethodField": {}, "ChoiceField": {}, "MultipleChoiceField": {"type": "array", "items": {}}, "ModelField": {},
}
_MARSHMALLOW_TYPES: dict[str, JSONObject] = {
    "Str": {"type": "string"}, "String": {"type": "string"}, "Int": {"type": "integer"}, "Integer": {"type": "integer"},
    "Float": {"type": "number"}, "Number": {"type": "number"}, "Decimal": {"type": "number"}, "Bool": {"type": "boolean"},
    "Boolean": {"type": "boolean"}, "DateTime": {"type": "string", "format": "date-time"}, "AwareDateTime": {"type": "string", "format": "date-time"},
    "NaiveDateTime": {"type": "string", "format": "date-time"}, "Date": {"type": "string", "format": "date"},
    "Time": {"type": "string", "format": "time"}, "UUID": {"type": "string", "format": "uuid"}, "Email": {"type": "string", "format": "email"},
    "Url": {"type": "string", "format": "url"}, "URL": {"type": "string", "format": "url"}, "Dict": {"type": "object"},
    "Mapping": {"type": "object"}, "Raw": {}, "Method": {}, "Function": {}, "Enum": {}, "IP": {"type": "string", "format": "ip"},
    "TimeDelta": {"type": "integer"}, "List": {"type": "array", "items": {}}, "Tuple": {"type": "array"},
}


class Models(msgspec.Struct):
    """Builds components on demand; `components` holds every schema made so far."""

    definitions: Definitions
    knowledge: SerializationKnowledge | None
    components: dict[str, JSONObject] = msgspec.field(default_factory=dict)
    _names: dict[str, str] = msgspec.field(default_factory=dict)  # class qualname -> component name

    def reference(self, module: str, expression: ast.expr | None) -> JSONObject | None:
        """`{"$ref": ...}` for a project model the expression names (as `module` sees it), else None."""
        if not isinstance(expression, ast.Name):
            return None
        found = self.definitions.find(module, expression.id)
        if found is None or not isinstance(found[1], ast.ClassDef):
            return None
        return self._component(found[0], found[1], 0)

    def validation_error(self) -> JSONObject:
        """FastAPI's 422 body, `#/components/schemas/HTTPValidationError`, as its generator writes it."""
        self.components.setdefault("ValidationError", {
            "type": "object", "title": "ValidationError", "required": ["loc", "msg", "type"],
            "properties": {
                "loc": {"type": "array", "title": "Location", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                "msg": {"type": "string", "title": "Message"}, "type": {"type": "string", "title": "Error Type"},
                "input": {"title": "Input"}, "ctx": {"type": "object", "title": "Context"},
            },
        })
        self.components.setdefault("HTTPValidationError", {
            "type": "object", "title": "HTTPValidationError",
            "properties": {"detail": {"type": "array", "title": "Detail", "items": {"$ref": "#/components/schemas/ValidationError"}}},
        })
        return {"$ref": "#/components/schemas/HTTPValidationError"}

    def schema_of(self, module: str, annotation: ast.expr | None) -> JSONObject:
        """The schema of an annotation (`list[OrderOut]`, `OrderOut | None`, `int`)."""
        return self._annotation(module, annotation, 0)

    # -- components ------------------------------------------------------------------------

    def _component(self, module: str, node: ast.ClassDef, depth: int) -> JSONObject | None:
        qualname = f"{module}.{node.name}"
        if qualname in self._names:
            return {"$ref": f"#/components/schemas/{self._names[qualname]}"}
        if depth > _MAX_DEPTH:
            return None
        family = self._family(module, node, qualname)
        if family is None:
            return None
        name = node.name
        if family is Family.DRF and name.endswith("Serializer") and len(name) > len("Serializer"):
            name = name[: -len("Serializer")]
        elif family is Family.MARSHMALLOW and name.endswith("Schema") and len(name) > len("Schema"):
            name = name[: -len("Schema")]
        while name in self.components and self._names.get(qualname) != name:
            name += "_"
        self._names[qualname] = name
        self.components[name] = {}  # placeholder: a model that refers to itself meets its own $ref
        if family == "enum":
            self.components[name] = _enum_schema(node)
        elif family is Family.PYDANTIC:
            self.components[name] = self._pydantic(module, node, depth)
        elif family is Family.DRF:
            self.components[name] = self._drf(module, node, qualname, depth)
        else:
            self.components[name] = self._marshmallow(module, node, depth)
        return {"$ref": f"#/components/schemas/{name}"}

    def _family(self, module: str, node: ast.ClassDef, qualname: str) -> Family | str | None:
        if any(_base_name(base) in _ENUM_BASES for base in node.bases):
            return "enum"
        if self.knowledge is not None:
            found = self.knowledge.family(qualname)
            if found in (Family.PYDANTIC, Family.DRF, Family.MARSHMALLOW):
                return found
        if any(_base_name(base) in ("BaseModel", "pydantic.BaseModel", "SQLModel") for base in node.bases):
            return Family.PYDANTIC
        if any((_base_name(base) or "").endswith("Serializer") for base in node.bases):  # a third-party serializer base
            return Family.DRF
        for base in node.bases:  # a project base class: its family is the model's
            if isinstance(base, ast.Name):
                found_base = self.definitions.find(module, base.id)
                if found_base is not None and isinstance(found_base[1], ast.ClassDef) and found_base[1] is not node:
                    family = self._family(found_base[0], found_base[1], f"{found_base[0]}.{found_base[1].name}")
                    if family is not None:
                        return family
        return None

    def _lineage(self, module: str, node: ast.ClassDef) -> list[tuple[str, ast.ClassDef]]:
        """The class and its project bases, farthest base first (field order as Python's MRO gives it)."""
        found: list[tuple[str, ast.ClassDef]] = []
        stack = [(module, node)]
        seen: set[str] = set()
        while stack and len(found) < 24:
            owner, current = stack.pop()
            key = f"{owner}.{current.name}"
            if key in seen:
                continue
            seen.add(key)
            found.append((owner, current))
            for base in current.bases:
                if isinstance(base, ast.Name):
                    located = self.definitions.find(owner, base.id)
                    if located is not None and isinstance(located[1], ast.ClassDef):
                        stack.append((located[0], located[1]))
        return list(reversed(found))

    # -- pydantic ----------------------------------------------------------------------------

    def _pydantic(self, module: str, node: ast.ClassDef, depth: int) -> JSONObject:
        properties: dict[str, object] = {}
        required: list[str] = []
        for owner, cls in self._lineage(module, node):
            for statement in cls.body:
                if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
                    continue
                name = statement.target.id
                if name.startswith("_") or name == "model_config" or _is_classvar(statement.annotation):
                    continue
                annotation, metadata = _split_annotated(statement.annotation)
                field_call = next((item for item in metadata if isinstance(item, ast.Call) and _call_name(item) == "Field"), None)
                if isinstance(statement.value, ast.Call) and _call_name(statement.value) == "Field":
                    field_call = statement.value
                schema = dict(self._annotation(owner, annotation, depth + 1))
                is_required = statement.value is None
                alias = None
                if field_call is not None:
                    if statement.value is field_call:
                        given = field_call.args[0] if field_call.args else None
                        has_default = given is not None and not (isinstance(given, ast.Constant) and given.value is Ellipsis)
                        has_default = has_default or any(k.arg in ("default", "default_factory") for k in field_call.keywords)
                        is_required = not has_default
                    for keyword in field_call.keywords:
                        if keyword.arg == "alias" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                            alias = keyword.value.value
                        target = _CONSTRAINTS.get(keyword.arg or "")
                        if target and isinstance(keyword.value, ast.Constant):
                            _constrain(schema, target, keyword.value.value)
                name = alias or name
                default = _literal_default(statement.value, field_call)
                if not is_required and default is not None:
                    schema["default"] = default
                properties[name] = schema
                if is_required and name not in required:
                    required.append(name)
                elif not is_required and name in required:
                    required.remove(name)
        result: JSONObject = {"type": "object", "title": node.name, "properties": properties}
        if required:
            result["required"] = required
        return result

    def _annotation(self, module: str, annotation: ast.expr | None, depth: int) -> JSONObject:
        if annotation is None or depth > _MAX_DEPTH:
            return {}
        annotation, metadata = _split_annotated(annotation)
        if isinstance(annotation, ast.Constant):
            if annotation.value is None:
                return {"type": "null"}
            if isinstance(annotation.value, str):  # a forward reference: "OrderOut"
                try:
                    parsed = ast.parse(annotation.value, mode="eval").body
                except SyntaxError:
                    return {}
                return self._annotation(module, parsed, depth + 1)
            return {}
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            return _union([self._annotation(module, side, depth + 1) for side in _union_members(annotation)])
        if isinstance(annotation, ast.Subscript):
            outer = _base_name(annotation.value)
            arguments = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
            if outer in ("Optional", "typing.Optional"):
                return _union([self._annotation(module, arguments[0], depth + 1), {"type": "null"}])
            if outer in ("Union", "typing.Union"):
                return _union([self._annotation(module, item, depth + 1) for item in arguments])
            if outer in ("list", "List", "Sequence", "set", "Set", "frozenset", "tuple", "Tuple", "Iterable"):
                items = self._annotation(module, arguments[0], depth + 1) if arguments else {}
                schema: JSONObject = {"type": "array", "items": items}
                if outer in ("set", "Set", "frozenset"):
                    schema["uniqueItems"] = True
                return schema
            if outer in ("dict", "Dict", "Mapping"):
                values = self._annotation(module, arguments[1], depth + 1) if len(arguments) > 1 else {}
                return {"type": "object", "additionalProperties": values} if values else {"type": "object"}
            if outer in ("Literal", "typing.Literal"):
                constants: list[object] = [item.value for item in arguments if isinstance(item, ast.Constant)]
                literal: JSONObject = {"enum": constants}
                if constants and all(isinstance(value, str) for value in constants):
                    literal["type"] = "string"
                elif constants and all(isinstance(value, int) and not isinstance(value, bool) for value in constants):
                    literal["type"] = "integer"
                return literal
            return {}
        name = _base_name(annotation) if annotation is not None else None
        if name is None:
            return {}
        short = name.rpartition(".")[2]
        if isinstance(annotation, ast.Name):
            located = self.definitions.find(module, annotation.id)
            if located is not None and isinstance(located[1], ast.ClassDef):
                return self._component(located[0], located[1], depth + 1) or {}
            if located is not None and isinstance(located[1], (ast.Assign, ast.AnnAssign)) and located[1].value is not None:
                return self._annotation(located[0], located[1].value, depth + 1)
        if short in _PRIMITIVES:
            return dict(_PRIMITIVES[short])
        _ = metadata
        return {}

    # -- DRF ---------------------------------------------------------------------------------

    def _drf(self, module: str, node: ast.ClassDef, qualname: str, depth: int) -> JSONObject:
        properties: dict[str, object] = {}
        required: list[str] = []
        declared: set[str] = set()
        for owner, cls in self._lineage(module, node):
            for statement in cls.body:
                if not isinstance(statement, ast.Assign) or len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
                    continue
                if not isinstance(statement.value, ast.Call):
                    continue
                name = statement.targets[0].id
                schema, is_required = self._drf_field(owner, statement.value, depth)
                if schema is None:
                    continue
                declared.add(name)
                properties[name] = schema
                if is_required and name not in required:
                    required.append(name)
        if self.knowledge is not None:
            meta = next((s for s in self.knowledge.ancestry(qualname) if s.meta_fields or s.all_fields or s.model), None)
            if meta is not None and meta.meta_fields:
                # `Meta.fields` is the whole list: a field declared on a base and not named there is left out.
                properties = {name: properties[name] for name in meta.meta_fields if name in properties}
                required = [name for name in required if name in properties]
                declared &= set(properties)
            model = self.knowledge.model_of(qualname)
            names: list[str] = []
            if meta is not None and meta.meta_fields:
                names = list(meta.meta_fields)
            elif model is not None and (meta is None or meta.all_fields or meta.exclude):
                names = ["id", *sorted(model.fields - {"id"})]
                if meta is not None:
                    names = [n for n in names if n not in meta.exclude]
            read_only = self._meta_list(module, node, "read_only_fields")
            for name in names:
                if name in declared:
                    continue
                relation = model.relations.get(name) if model is not None else None
                schema_for: JSONObject
                if relation is not None:
                    schema_for = {"type": "array", "items": {"type": "integer"}} if relation.many else {"type": "integer"}
                else:
                    schema_for = {"readOnly": True} if name == "id" else {}
                if name in read_only or name == "id":
                    schema_for["readOnly"] = True
                properties[name] = schema_for
        return {"type": "object", "properties": properties, **({"required": required} if required else {})}

    def _meta_list(self, module: str, node: ast.ClassDef, key: str) -> set[str]:
        for owner, cls in reversed(self._lineage(module, node)):
            for statement in cls.body:
                if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
                    for item in statement.body:
                        if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == key for t in item.targets):
                            if isinstance(item.value, (ast.List, ast.Tuple)):
                                return {e.value for e in item.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            _ = owner
        return set()

    def _drf_field(self, module: str, call: ast.Call, depth: int) -> tuple[JSONObject | None, bool]:
        kind = _call_name(call) or ""
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        flag = {name: isinstance(value, ast.Constant) and value.value is True for name, value in keywords.items()}
        nested = self.reference(module, call.func) if isinstance(call.func, ast.Name) else None
        if nested is not None:
            schema: JSONObject = {"type": "array", "items": nested} if flag.get("many") else dict(nested)
        elif kind in _DRF_TYPES:
            schema = dict(_DRF_TYPES[kind])
            if kind == "ListField" and isinstance(keywords.get("child"), ast.Call):
                child, _ = self._drf_field(module, keywords["child"], depth + 1)  # type: ignore[arg-type]
                schema["items"] = child or {}
            if flag.get("many"):
                schema = {"type": "array", "items": schema}
        elif kind.endswith("Field"):
            schema = {}
        else:
            return None, False
        if flag.get("read_only") or kind in ("SerializerMethodField", "ReadOnlyField", "HyperlinkedIdentityField", "StringRelatedField"):
            schema["readOnly"] = True
        if flag.get("write_only"):
            schema["writeOnly"] = True
        if flag.get("allow_null"):
            schema = nullable(schema)
        for keyword, target in (("max_length", "maxLength"), ("min_length", "minLength"), ("max_value", "maximum"), ("min_value", "minimum")):
            value = keywords.get(keyword)
            if isinstance(value, ast.Constant) and isinstance(value.value, (int, float)):
                schema[target] = value.value
        required_keyword = keywords.get("required")
        explicitly_optional = isinstance(required_keyword, ast.Constant) and required_keyword.value is False
        is_required = not explicitly_optional and "default" not in keywords and not flag.get("read_only") and not schema.get("readOnly")
        return schema, is_required

    # -- marshmallow -------------------------------------------------------------------------

    def _marshmallow(self, module: str, node: ast.ClassDef, depth: int) -> JSONObject:
        properties: dict[str, object] = {}
        required: list[str] = []
        for owner, cls in self._lineage(module, node):
            for statement in cls.body:
                if not isinstance(statement, ast.Assign) or len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
                    continue
                if not isinstance(statement.value, ast.Call):
                    continue
                schema, is_required, key = self._marshmallow_field(owner, statement.value, depth)
                if schema is None:
                    continue
                name = key or statement.targets[0].id
                properties[name] = schema
                if is_required and name not in required:
                    required.append(name)
        result: JSONObject = {"type": "object", "properties": properties, **({"required": required} if required else {})}
        if not _meta_value(node, "unknown"):
            result["additionalProperties"] = False  # marshmallow's default: unknown fields are an error (RAISE)
        return result

    def _marshmallow_field(self, module: str, call: ast.Call, depth: int) -> tuple[JSONObject | None, bool, str | None]:
        kind = _call_name(call) or ""
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        flag = {name: isinstance(value, ast.Constant) and value.value is True for name, value in keywords.items()}
        if kind in ("Nested", "Pluck"):
            target = call.args[0] if call.args else keywords.get("nested")
            if isinstance(target, ast.Call):  # Nested(AuthorSchema(only=...))
                target = target.func
            nested = self.reference(module, target)
            schema: JSONObject = dict(nested) if nested is not None else {"type": "object"}
            if flag.get("many"):
                schema = {"type": "array", "items": schema}
        elif kind == "List" and call.args and isinstance(call.args[0], ast.Call):
            item, _, _ = self._marshmallow_field(module, call.args[0], depth + 1)
            schema = {"type": "array", "items": item or {}}
        elif kind in _MARSHMALLOW_TYPES:
            schema = dict(_MARSHMALLOW_TYPES[kind])
        else:
            return None, False, None
        if flag.get("dump_only"):
            schema["readOnly"] = True
        if flag.get("load_only"):
            schema["writeOnly"] = True
        if flag.get("allow_none"):
            schema = nullable(schema)
        key = keywords.get("data_key")
        name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
        return schema, bool(flag.get("required")), name


def _meta_value(node: ast.ClassDef, key: str) -> bool:
    """The class's `Meta` sets `key` (to anything)."""
    for statement in node.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
            return any(isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == key for t in item.targets)
                       for item in statement.body)
    return False


def _literal_default(value: ast.expr | None, field_call: ast.Call | None) -> object:
    """A field's literal default (`= 3`, `= []`, `Field(1)`, `Field(default="a")`), else None (pydantic shows no null default)."""
    if field_call is not None and value is field_call:
        value = field_call.args[0] if field_call.args else next((k.value for k in field_call.keywords if k.arg == "default"), None)
    if value is None:
        return None
    found = _json_literal(value)
    return None if found is _NOT_LITERAL else found


_NOT_LITERAL = object()
# How deep a literal default is read: a default nested deeper is shown as none.
_LITERAL_DEPTH = 16


def _json_literal(node: ast.expr, depth: int = 0) -> object:
    """The JSON value a literal expression spells (`3`, `-1.5`, `"a"`, `[1, {"k": None}]`), read
    off the tree node by node (nothing is evaluated); `_NOT_LITERAL` for anything else."""
    if depth > _LITERAL_DEPTH:
        return _NOT_LITERAL
    if isinstance(node, ast.Constant):
        return node.value if node.value is None or isinstance(node.value, (str, int, float)) else _NOT_LITERAL
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) and isinstance(node.operand, ast.Constant):
        number = node.operand.value
        if isinstance(number, (int, float)) and not isinstance(number, bool):
            return -number if isinstance(node.op, ast.USub) else number
        return _NOT_LITERAL
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_json_literal(item, depth + 1) for item in node.elts]
        return _NOT_LITERAL if any(item is _NOT_LITERAL for item in items) else items
    if isinstance(node, ast.Dict):
        entries: dict[str, object] = {}
        for key, item in zip(node.keys, node.values):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                return _NOT_LITERAL
            converted = _json_literal(item, depth + 1)
            if converted is _NOT_LITERAL:
                return _NOT_LITERAL
            entries[key.value] = converted
        return entries
    return _NOT_LITERAL


def _enum_schema(node: ast.ClassDef) -> JSONObject:
    values = [statement.value.value for statement in node.body
              if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
              and isinstance(statement.value.value, (str, int, float)) and not isinstance(statement.value.value, bool)]
    kinds = {type(value) for value in values}
    schema: JSONObject = {"title": node.name, "enum": values}
    if kinds == {str}:
        schema["type"] = "string"
    elif kinds == {int}:
        schema["type"] = "integer"
    return schema


def _union(members: list[JSONObject]) -> JSONObject:
    """The schema of a value that is any of `members`: one flat `anyOf` without repeats (a
    member that is itself only an `anyOf` gives its alternatives), the member itself when there
    is one, `{}` when one allows anything."""
    flat: list[JSONObject] = []
    for member in members:
        alternatives = member.get("anyOf")
        for item in alternatives if isinstance(alternatives, list) and len(member) == 1 else [member]:
            if isinstance(item, dict) and item not in flat:
                flat.append(item)
    if len(flat) == 1:
        return flat[0]
    if any(item == {} for item in flat):
        return {}
    return {"anyOf": flat}


def _union_members(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [*_union_members(node.left), *_union_members(node.right)]
    return [node]


def _split_annotated(annotation: ast.expr | None) -> tuple[ast.expr | None, list[ast.expr]]:
    if isinstance(annotation, ast.Subscript) and _base_name(annotation.value) in ("Annotated", "typing.Annotated"):
        elements = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        return elements[0], list(elements[1:])
    return annotation, []


def _is_classvar(annotation: ast.expr) -> bool:
    target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return _base_name(target) in ("ClassVar", "typing.ClassVar")


def _constrain(schema: JSONObject, keyword: str, value: object) -> None:
    alternatives = schema.get("anyOf")
    if isinstance(alternatives, list):  # Optional[...]: the constraint is on the non-null member
        for member in alternatives:
            if isinstance(member, dict) and member.get("type") != "null":
                member[keyword] = value
        return
    schema[keyword] = value


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _base_name(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    return None


def _call_name(node: ast.expr | None) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    function = node.func
    return function.id if isinstance(function, ast.Name) else function.attr if isinstance(function, ast.Attribute) else None


def nullable(schema: JSONObject) -> JSONObject:
    """The schema that also allows null, as OpenAPI 3.1 (JSON Schema 2020-12) writes it: "null"
    added to `type`, or `anyOf` with `{"type": "null"}` when the schema has no single type (a
    `$ref`, a composition). OpenAPI 3.1 has no `nullable` keyword."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return {**schema, "type": [declared, "null"]}
    if isinstance(declared, list):
        return schema if "null" in declared else {**schema, "type": [*declared, "null"]}
    if not schema:
        return schema  # any value, null included
    keep: JSONObject = {key: schema[key] for key in ("readOnly", "writeOnly", "description") if key in schema}
    inner = {key: value for key, value in schema.items() if key not in keep}
    # The union with null, as an `Optional[...]` annotation reads: one flat `anyOf`.
    union = _union([inner, {"type": "null"}])
    return {**union, **keep} if union else union
