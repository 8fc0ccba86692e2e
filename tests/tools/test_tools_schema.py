"""OpenAI tool schemas generated from signatures: concrete JSON schemas per kind of parameter."""

from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field, TypeAdapter

from llm_sessions.tools import ToolRegistry, build_tool


class Address(BaseModel):
    street: str
    city: str = "Paris"


class Itinerary(BaseModel):
    stops: list[Address]
    title: str  # a property called "title" must survive title stripping


def plan_trip(
    destination: str,
    days: int,
    budget: float,
    flexible: bool,
    tags: list[int],
    home: Address,
    note: Optional[str] = None,  # noqa: UP045 - Optional[...] is what is under test
    travellers: int = 1,
    mode: Literal["train", "plane"] = "train",
) -> str:
    """Plan a trip.

    Args:
        destination: Where to go.
        days: How many days
            the trip lasts.
    """
    return destination


def test_function_schema_covers_every_basic_type() -> None:
    tool = build_tool(plan_trip)
    assert tool.to_openai() == {
        "type": "function",
        "function": {
            "name": "plan_trip",
            "description": "Plan a trip.",
            "parameters": {
                "type": "object",
                "properties": {
                    "destination": {"type": "string", "description": "Where to go."},
                    "days": {"type": "integer", "description": "How many days the trip lasts."},
                    "budget": {"type": "number"},
                    "flexible": {"type": "boolean"},
                    "tags": {"type": "array", "items": {"type": "integer"}},
                    "home": {"$ref": "#/$defs/Address"},
                    "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                    "travellers": {"type": "integer", "default": 1},
                    "mode": {"type": "string", "enum": ["train", "plane"], "default": "train"},
                },
                "required": ["destination", "days", "budget", "flexible", "tags", "home"],
                "additionalProperties": False,
                "$defs": {
                    "Address": {
                        "type": "object",
                        "properties": {
                            "street": {"type": "string"},
                            "city": {"type": "string", "default": "Paris"},
                        },
                        "required": ["street"],
                    }
                },
            },
        },
    }


def test_nested_models_and_property_named_title() -> None:
    async def save_itinerary(itinerary: Itinerary, title: str = "") -> None:
        return None

    assert build_tool(save_itinerary).parameters_schema == {
        "type": "object",
        "properties": {
            "itinerary": {"$ref": "#/$defs/Itinerary"},
            "title": {"type": "string", "default": ""},
        },
        "required": ["itinerary"],
        "additionalProperties": False,
        "$defs": {
            "Address": {
                "type": "object",
                "properties": {
                    "street": {"type": "string"},
                    "city": {"type": "string", "default": "Paris"},
                },
                "required": ["street"],
            },
            "Itinerary": {
                "type": "object",
                "properties": {
                    "stops": {"type": "array", "items": {"$ref": "#/$defs/Address"}},
                    "title": {"type": "string"},
                },
                "required": ["stops", "title"],
            },
        },
    }


def test_class_schema_leaves_out_self_and_uses_execute_signature() -> None:
    class WeatherTool:
        """Get the weather."""

        async def execute(self, location: str, unit: Literal["C", "F"] = "C") -> dict[str, Any]:
            return {"location": location, "unit": unit}

    assert build_tool(WeatherTool).to_openai() == {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Get the weather.",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string"},
                    "unit": {"type": "string", "enum": ["C", "F"], "default": "C"},
                },
                "required": ["location"],
                "additionalProperties": False,
            },
        },
    }


def test_no_parameters_gives_an_empty_object_schema() -> None:
    def now() -> str:
        return "noon"

    assert build_tool(now).parameters_schema == {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    }


def test_field_constraints_descriptions_and_unannotated_parameters() -> None:
    def search(  # type: ignore[no-untyped-def]
        query: Annotated[str, Field(description="Words to look for", min_length=1)],
        limit: int = Field(10, ge=1, le=50, description="At most this many"),
        anything=None,
    ) -> list[str]:
        """Search.

        Args:
            query: Overridden by the Annotated description.
            anything: Whatever you like.
        """
        return [query] * limit

    assert build_tool(search).parameters_schema == {
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1, "description": "Words to look for"},
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": 50,
                "default": 10,
                "description": "At most this many",
            },
            "anything": {"default": None, "description": "Whatever you like."},
        },
        "required": ["query"],
        "additionalProperties": False,
    }


def test_parameters_named_like_model_attributes_keep_their_names() -> None:
    def weird(json: str, schema: int, _private: bool = False, model_name: str = "m") -> str:
        return json

    schema = build_tool(weird).parameters_schema
    assert schema["properties"] == {
        "json": {"type": "string"},
        "schema": {"type": "integer"},
        "_private": {"type": "boolean", "default": False},
        "model_name": {"type": "string", "default": "m"},
    }
    assert schema["required"] == ["json", "schema"]


def test_var_args_are_left_out_and_var_kwargs_allow_extra_properties() -> None:
    def flexible(name: str, *values: int, **options: Any) -> None:
        return None

    assert build_tool(flexible).parameters_schema == {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "additionalProperties": True,
    }


def test_parameters_schema_is_a_copy() -> None:
    tool = build_tool(plan_trip)
    tool.parameters_schema["properties"].clear()
    tool.to_openai()["function"]["parameters"]["required"].clear()
    assert len(tool.parameters_schema["properties"]) == 9
    assert len(tool.parameters_schema["required"]) == 6


def test_registry_exports_every_tool_in_registration_order() -> None:
    registry = ToolRegistry()
    registry.register(plan_trip)

    def now() -> str:
        return "noon"

    registry.register(now)

    exported = registry.to_openai_tools()
    assert [entry["function"]["name"] for entry in exported] == ["plan_trip", "now"]
    assert exported[0] == build_tool(plan_trip).to_openai()


def test_exported_schemas_fit_the_openai_sdk_types() -> None:
    chat_types = pytest.importorskip("openai.types.chat")
    registry = ToolRegistry()
    registry.register(plan_trip)
    adapter: TypeAdapter[Any] = TypeAdapter(list[chat_types.ChatCompletionToolParam])  # type: ignore[name-defined]
    exported = registry.to_openai_tools()
    assert adapter.validate_python(exported, strict=True) == exported
