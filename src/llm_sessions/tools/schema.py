"""From a callable's signature to a pydantic model of its arguments and a JSON schema for the LLM.

Each named parameter becomes a field of the model: its annotation is the field's type (``Any`` when
unannotated), its default the field's default (a parameter without one is required), a
``pydantic.Field(...)`` default or an ``Annotated[T, Field(...)]`` annotation is honoured, and a
Google-style ``Args:`` entry of the docstring becomes the field's description. ``*args`` is left
out (an LLM passes arguments by name). Unknown arguments are rejected
(``additionalProperties: false``) unless the callable takes ``**kwargs``, whose extra arguments are
then passed through unvalidated.

The JSON schema is pydantic's, with the generated ``title`` keys removed: nested pydantic models,
dataclasses and TypedDicts appear under ``$defs`` and are referenced with ``$ref``.
"""

from __future__ import annotations

import copy
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.errors import PydanticUserError
from pydantic.fields import FieldInfo

from .arguments import problems_from_validation_error
from .errors import ToolArgumentsValidationError, ToolRegistrationError

__all__ = ["ArgumentsSchema", "Parameter", "build_arguments_schema", "strip_titles"]

# Keys whose value maps names to schemas, so that a property called "title" is not mistaken for
# the "title" keyword.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
# Keys whose value is data (a default, allowed values), left exactly as it is.
_DATA_KEYS = frozenset({"default", "enum", "const", "examples"})


@dataclass(frozen=True, slots=True)
class Parameter:
    """One named parameter of a tool: its name as the LLM sends it and its field in the model."""

    name: str
    field: str
    positional_only: bool


@dataclass(frozen=True, slots=True)
class ArgumentsSchema:
    """The arguments a tool takes: a pydantic model to validate them and their JSON schema."""

    model: type[BaseModel]
    parameters: tuple[Parameter, ...]
    accepts_extra: bool
    json_schema: Mapping[str, Any]

    def validate(self, tool_name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Validate decoded arguments and return them keyed by parameter name, defaults filled in.

        Values come back converted as the annotations say (a nested model as its instance, an
        ``int`` field sent as ``"3"`` as ``3``). Raises ``ToolArgumentsValidationError`` naming
        each field and value that does not fit, with pydantic's ``ValidationError`` as cause.

        Args:
            tool_name: The tool's name, for the error.
            arguments: The decoded arguments.

        Returns:
            The values by parameter name.

        Raises:
            ToolArgumentsValidationError: A value does not fit its parameter.
        """
        try:
            instance = self.model.model_validate(dict(arguments))
        except ValidationError as exc:
            raise ToolArgumentsValidationError(
                tool_name, problems_from_validation_error(exc)
            ) from exc
        values = {param.name: getattr(instance, param.field) for param in self.parameters}
        if self.accepts_extra and instance.model_extra:
            for key, value in instance.model_extra.items():
                values.setdefault(key, value)
        return values

    def bind(self, values: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Split validated values into the positional and keyword arguments of a call.

        Args:
            values: Values ``validate`` returned.

        Returns:
            ``(args, kwargs)`` for the call.
        """
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        declared: set[str] = set()
        for param in self.parameters:
            declared.add(param.name)
            if param.name not in values:
                continue
            if param.positional_only:
                args.append(values[param.name])
            else:
                kwargs[param.name] = values[param.name]
        for key, value in values.items():
            if key not in declared:
                kwargs[key] = value
        return args, kwargs


def _needs_alias(name: str) -> bool:
    # Pydantic treats leading-underscore names as private attributes, and a field named like a
    # BaseModel attribute ("json", "copy", "schema", ...) shadows it.
    return name.startswith("_") or name.startswith("model_") or hasattr(BaseModel, name)


def _has_description(annotation: Any, default: Any) -> bool:
    if isinstance(default, FieldInfo) and default.description is not None:
        return True
    if typing.get_origin(annotation) is Annotated:
        return any(
            isinstance(meta, FieldInfo) and meta.description is not None
            for meta in typing.get_args(annotation)[1:]
        )
    return False


def _model_name(tool_name: str) -> str:
    words = tool_name.replace("-", "_").split("_")
    return "".join(word[:1].upper() + word[1:] for word in words if word) + "Arguments"


def _signature(func: Callable[..., Any], tool_name: str) -> inspect.Signature:
    try:
        return inspect.signature(func, eval_str=True)
    except NameError as exc:
        raise ToolRegistrationError(
            f"Cannot resolve the type hints of tool {tool_name!r}: {exc}. Types used in a tool's "
            "signature must be importable from its module (not local to a function)"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise ToolRegistrationError(
            f"Cannot read the signature of tool {tool_name!r}: {exc}"
        ) from exc


def _model_and_schema(
    tool_name: str, fields: dict[str, Any], accepts_extra: bool
) -> tuple[type[BaseModel], dict[str, Any]]:
    config = ConfigDict(extra="allow" if accepts_extra else "forbid", protected_namespaces=())
    try:
        model: type[BaseModel] = create_model(_model_name(tool_name), __config__=config, **fields)
        json_schema = strip_titles(model.model_json_schema())
    except (PydanticUserError, TypeError) as exc:
        raise ToolRegistrationError(
            f"Cannot build an argument schema for tool {tool_name!r}: {exc}"
        ) from exc
    json_schema.setdefault("properties", {})
    json_schema["type"] = "object"
    json_schema["additionalProperties"] = accepts_extra
    return model, json_schema


def build_arguments_schema(
    func: Callable[..., Any],
    tool_name: str,
    *,
    skip_first: bool = False,
    descriptions: Mapping[str, str] | None = None,
) -> ArgumentsSchema:
    """Build the ``ArgumentsSchema`` of ``func``'s parameters.

    ``skip_first`` drops the first parameter (``self`` of a function taken from a class);
    ``descriptions`` gives parameter descriptions for parameters whose annotation has none.
    Raises ``ToolRegistrationError`` when the signature cannot be read or a type has no schema.
    """
    signature = _signature(func, tool_name)
    params = list(signature.parameters.values())
    if skip_first:
        params = params[1:]
    descriptions = descriptions or {}
    fields: dict[str, Any] = {}
    parameters: list[Parameter] = []
    accepts_extra = False
    for index, param in enumerate(params):
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            accepts_extra = True
            continue
        annotation: Any = Any if param.annotation is inspect.Parameter.empty else param.annotation
        default: Any = ... if param.default is inspect.Parameter.empty else param.default
        field = param.name
        if _needs_alias(param.name):
            field = f"param_{index}"
            while field in signature.parameters:
                field = f"{field}_"
        description = None
        if param.name in descriptions and not _has_description(annotation, default):
            description = descriptions[param.name]
        alias = param.name if field != param.name else None
        if description is not None or alias is not None:
            annotation = Annotated[annotation, Field(alias=alias, description=description)]
        fields[field] = (annotation, default)
        parameters.append(
            Parameter(
                name=param.name,
                field=field,
                positional_only=param.kind is inspect.Parameter.POSITIONAL_ONLY,
            )
        )

    model, json_schema = _model_and_schema(tool_name, fields, accepts_extra)
    return ArgumentsSchema(
        model=model,
        parameters=tuple(parameters),
        accepts_extra=accepts_extra,
        json_schema=json_schema,
    )


def strip_titles(schema: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a JSON schema without ``title`` keywords (property names are kept)."""
    cleaned = _strip(copy.deepcopy(schema))
    assert isinstance(cleaned, dict)
    return cleaned


def _strip(node: Any) -> Any:
    if isinstance(node, list):
        return [_strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in _DATA_KEYS:
            result[key] = value
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            result[key] = {name: _strip(sub) for name, sub in value.items()}
        else:
            result[key] = _strip(value)
    return result
