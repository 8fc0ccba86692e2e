"""Request and response bodies of the OpenAI-compatible Conversations routes.

They follow ``openai.types.conversations`` (the tests validate our responses with those types).
Items supported: messages (text, ``input_image`` and ``input_file`` content), function calls and
function call outputs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "MAX_ITEMS_PER_REQUEST",
    "ConversationCreate",
    "ConversationDeleted",
    "ConversationList",
    "ConversationOut",
    "ConversationUpdate",
    "FunctionCallIn",
    "FunctionCallOut",
    "FunctionCallOutputIn",
    "FunctionCallOutputOut",
    "InputFilePart",
    "InputImagePart",
    "ItemIn",
    "ItemList",
    "ItemOut",
    "ItemsCreate",
    "MessageIn",
    "MessageOut",
    "Metadata",
    "TextPart",
]

MAX_ITEMS_PER_REQUEST = 20
MAX_TEXT = 1_000_000

Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
# A data URL of the largest attachment (20 MiB) in base64, with room for its header.
DataText = Annotated[str, StringConstraints(max_length=28_000_000)]
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MetadataValue = Annotated[str, StringConstraints(max_length=512)]
Metadata = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=16)]
"""Up to 16 pairs; keys up to 64 characters, values up to 512 (OpenAI's limits)."""
Role = Literal["user", "assistant", "system", "developer"]
CallId = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextPart(_Strict):
    """One text part of a message's content."""

    type: Literal["input_text", "output_text", "text"]
    text: Text


class InputImagePart(_Strict):
    """An image: an http(s) URL (kept) or a data URL (stored once as a blob)."""

    type: Literal["input_image"]
    image_url: DataText | None = None
    file_id: str | None = None
    detail: Literal["low", "high", "auto"] = "auto"


class InputFilePart(_Strict):
    """A file: ``file_data`` as a data URL (stored once as a blob), or a ``file_url``."""

    type: Literal["input_file"]
    file_data: DataText | None = None
    file_url: Text | None = None
    file_id: str | None = None
    filename: Annotated[str, StringConstraints(max_length=255)] | None = None


ContentPart = TextPart | InputImagePart | InputFilePart


class MessageIn(_Strict):
    """A message item; ``content`` is a string or a list of 1 to 100 parts."""

    type: Literal["message"] = "message"
    role: Role
    content: Text | Annotated[list[ContentPart], Field(min_length=1, max_length=100)]
    phase: Literal["commentary", "final_answer"] | None = None


class FunctionCallIn(_Strict):
    """A function call the model made."""

    type: Literal["function_call"]
    call_id: CallId
    name: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    arguments: Text


class FunctionCallOutputIn(_Strict):
    """The output of a function call."""

    type: Literal["function_call_output"]
    call_id: CallId
    output: Text


ItemIn = MessageIn | FunctionCallIn | FunctionCallOutputIn
Items = Annotated[list[ItemIn], Field(max_length=MAX_ITEMS_PER_REQUEST)]


class ConversationCreate(_Strict):
    """Body of ``POST /v1/conversations``: OpenAI's fields, and ``user_id`` (ours: who the
    conversation belongs to)."""

    metadata: Metadata | None = None
    items: Items | None = None
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None


class ConversationUpdate(_Strict):
    """Body of ``POST /v1/conversations/{id}``."""

    metadata: Metadata | None


class ItemsCreate(_Strict):
    """Body of ``POST /v1/conversations/{id}/items``."""

    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS_PER_REQUEST)]


class ConversationOut(BaseModel):
    """A conversation (a session)."""

    id: str
    object: Literal["conversation"] = "conversation"
    created_at: int
    metadata: dict[str, str]


class ConversationList(BaseModel):
    """A page of conversations."""

    object: Literal["list"] = "list"
    data: list[ConversationOut]
    first_id: str | None
    last_id: str | None
    has_more: bool


class ConversationDeleted(BaseModel):
    """The answer to deleting a conversation."""

    id: str
    object: Literal["conversation.deleted"] = "conversation.deleted"
    deleted: bool


class OutputTextPart(BaseModel):
    """One text part of a stored message."""

    type: Literal["input_text", "output_text", "text"]
    text: str
    annotations: list[dict[str, Any]] | None = None


class InputImageOut(BaseModel):
    """An image part as stored: ``file_id`` is its blob reference, ``image_url`` the URL an
    image by URL was given with."""

    type: Literal["input_image"]
    detail: Literal["low", "high", "auto"] = "auto"
    file_id: str | None = None
    image_url: str | None = None


class InputFileOut(BaseModel):
    """A file part as stored: ``file_id`` is its blob reference."""

    type: Literal["input_file"]
    file_id: str | None = None
    file_url: str | None = None
    filename: str | None = None


class MessageOut(BaseModel):
    """A message item as stored."""

    id: str
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer", "tool", "unknown"]
    status: Literal["completed", "incomplete"] = "completed"
    content: list[OutputTextPart | InputImageOut | InputFileOut]
    phase: Literal["commentary", "final_answer"] | None = None


class FunctionCallOut(BaseModel):
    """A function call item as stored."""

    id: str
    type: Literal["function_call"] = "function_call"
    status: Literal["completed"] = "completed"
    call_id: str
    name: str
    arguments: str


class FunctionCallOutputOut(BaseModel):
    """A function call output item as stored."""

    id: str
    type: Literal["function_call_output"] = "function_call_output"
    status: Literal["completed"] = "completed"
    call_id: str
    output: str


ItemOut = Annotated[
    MessageOut | FunctionCallOut | FunctionCallOutputOut, Field(discriminator="type")
]


class ItemList(BaseModel):
    """A page of items."""

    object: Literal["list"] = "list"
    data: list[ItemOut]
    first_id: str | None
    last_id: str | None
    has_more: bool
