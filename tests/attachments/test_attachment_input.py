"""Attachments: their input checks, image sizes from headers, tokens and rendering."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from attachment_images import gif, jpeg, png, webp

from llm_sessions import Attachment, SessionManager
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.prompting import build_prompt_from_session
from llm_sessions.storage import InMemorySessionStore, blob_area
from llm_sessions.tokens._image_tokens import image_tokens


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (png(640, 480), "image/png"),
        (jpeg(640, 480), "image/jpeg"),
        (gif(640, 480), "image/gif"),
        (webp(640, 480), "image/webp"),
    ],
)
def test_the_size_of_each_image_format_is_read_from_its_header(
    data: bytes, media_type: str
) -> None:
    attachment = Attachment.from_bytes(data, media_type)
    assert (attachment.width, attachment.height) == (640, 480)


# OpenAI's published figures: gpt-4o base 85 + 170 per 512 px tile; gpt-4o-mini 2833 + 5667.
@pytest.mark.parametrize(
    ("model", "size", "detail", "tokens"),
    [
        ("gpt-4o", (1024, 1024), "high", 765),
        ("gpt-4o", (1024, 1024), "low", 85),
        ("gpt-4o", (2048, 4096), "high", 1105),  # 768x1536 after scaling: 2x3 tiles
        ("gpt-4o-mini", (1024, 1024), "high", 2833 + 4 * 5667),
        ("gpt-4o-mini", (1024, 1024), "low", 2833),
        ("gpt-4o-mini", (300, 200), "auto", 2833 + 5667),
    ],
)
def test_image_tokens_follow_the_published_rules(
    model: str, size: tuple[int, int], detail: str, tokens: int
) -> None:
    assert image_tokens(model, size[0], size[1], detail) == tokens


async def test_an_image_is_counted_and_priced_with_the_message() -> None:
    sm = SessionManager(store=InMemorySessionStore(), model="gpt-4o")
    await sm.user_says(["Hi", Attachment.from_bytes(png(1024, 1024), "image/png", detail="high")])
    hi_only = SessionManager(store=InMemorySessionStore(), model="gpt-4o")
    await hi_only.user_says("Hi")
    with_image = (await sm.get_session()).events[-1].token_usage
    text = (await hi_only.get_session()).events[-1].token_usage
    assert with_image is not None and text is not None
    assert with_image.prompt_tokens == text.prompt_tokens + 765
    assert with_image.estimated_cost_usd is not None
    assert with_image.estimated_cost_usd > (text.estimated_cost_usd or 0)


async def test_messages_carry_images_as_data_urls_and_files_as_file_parts() -> None:
    image = png(64, 32)
    sm = SessionManager(store=InMemorySessionStore(), model="gpt-4o")
    await sm.user_says(
        [
            "Look",
            Attachment.from_bytes(image, "image/png", detail="low"),
            Attachment.from_bytes(b"%PDF-1.7 text", "application/pdf", name="a.pdf"),
            Attachment.from_url("https://example.com/cat.jpg", detail="high"),
        ]
    )
    event = (await sm.get_session()).events[-1]
    assert "data" not in str(event.message)  # references only
    content = (await sm.get_messages_for_llm())[-1]["content"]
    assert content[0] == {"type": "text", "text": "Look"}
    encoded = base64.b64encode(image).decode()
    assert content[1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{encoded}", "detail": "low"},
    }
    pdf = base64.b64encode(b"%PDF-1.7 text").decode()
    assert content[2] == {
        "type": "file",
        "file": {"filename": "a.pdf", "file_data": f"data:application/pdf;base64,{pdf}"},
    }
    assert content[3]["image_url"] == {"url": "https://example.com/cat.jpg", "detail": "high"}


def test_from_path_names_the_file_and_guesses_its_type(tmp_path: Path) -> None:
    path = tmp_path / "shot.png"
    path.write_bytes(png(10, 20))
    attachment = Attachment.from_path(path)
    assert (attachment.name, attachment.media_type, attachment.height) == (
        "shot.png",
        "image/png",
        20,
    )


def test_a_data_url_is_decoded_and_checked() -> None:
    url = "data:image/gif;base64," + base64.b64encode(gif(3, 4)).decode()
    attachment = Attachment.from_url(url)
    assert (attachment.data, attachment.width) == (gif(3, 4), 3)


@pytest.mark.parametrize(
    ("make", "field", "limit"),
    [
        (lambda: Attachment.from_bytes(png(1, 1, 100), "image/png", max_bytes=64), "size", "64"),
        (lambda: Attachment.from_bytes(b"x", "application/x-msdownload"), "media_type", "pdf"),
        (lambda: Attachment.from_url("ftp://example.com/a.png"), "url", "https"),
        (lambda: Attachment.from_url("file:///etc/passwd"), "url", "data"),
        (lambda: Attachment.from_bytes(b"not a png at all", "image/png"), "data", "image/png"),
        (lambda: Attachment.from_bytes(jpeg(5, 5)[:20], "image/jpeg"), "data", "jpeg"),
        (lambda: Attachment.from_bytes(png(5, 5), "image/png", detail="max"), "detail", "high"),
    ],
)
def test_bad_input_names_the_field_and_the_limit(make: object, field: str, limit: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        make()  # type: ignore[operator]
    assert caught.value.field == f"attachment.{field}"
    assert limit in caught.value.reason


async def test_a_rejected_attachment_leaves_the_session_as_it_was() -> None:
    store = InMemorySessionStore()
    sm = SessionManager(store=store)
    await sm.user_says("before")
    blob_area(store, max_bytes=10)
    with pytest.raises(InvalidInputError, match="at most 10 bytes"):
        await sm.user_says(["big", Attachment.from_bytes(png(8, 8), "image/png")])
    with pytest.raises(InvalidInputError, match=r"message\[1\]"):
        await sm.user_says(["x", 42, Attachment.from_bytes(png(8, 8), "image/png")])
    events = (await sm.get_session()).events
    assert [event.message for event in events] == ["before"]
    assert await blob_area(store).touched() == {}


async def test_every_prompt_strategy_sends_the_bytes_not_the_reference() -> None:
    image = png(64, 32)
    sm = SessionManager(store=InMemorySessionStore(), model="gpt-4o")
    await sm.user_says(["Look", Attachment.from_bytes(image, "image/png")])
    session = await sm.get_session()
    for strategy in ("minimal", "conversation", "hierarchical"):
        prompt = await build_prompt_from_session(session, strategy)
        (part,) = [p for m in prompt if isinstance(m["content"], list) for p in m["content"][1:]]
        assert part == {
            "type": "image_url",
            "image_url": {
                "url": "data:image/png;base64," + base64.b64encode(image).decode(),
                "detail": "auto",
            },
        }
