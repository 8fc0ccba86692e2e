"""A FastAPI app that keeps one session per user: each request loads (or creates) the user's
session from the store, records the exchange, and answers with the reply and the running cost.

    pip install "llm-sessions[server]" && uvicorn fastapi_app:app   # from examples/: serve it
    python examples/fastapi_app.py            # two users, in-process (also needs httpx)
"""

# expect: alice: Noted: my name is alice.
# expect: bob: Noted: my name is bob.
# expect: alice has 2 turns; bob has 1
# expect: sessions in the store: user-alice, user-bob
# expect: carol: HTTP 404

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from _model import MODEL, say
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel

from llm_sessions import SessionManager
from llm_sessions.exceptions import SessionNotFound
from llm_sessions.storage import open_store

store = open_store(os.environ.get("LLM_SESSIONS_STORE", "memory://"))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await store.close()


app = FastAPI(lifespan=lifespan)


class Chat(BaseModel):
    message: str


@app.post("/users/{user_id}/chat")
async def chat(user_id: str, body: Chat) -> dict[str, Any]:
    sm = SessionManager(f"user-{user_id}", store=store, model=MODEL)  # get or create
    await sm.user_says(body.message)
    answer, usage = await say(await sm.get_messages_for_llm(), f"Noted: {body.message.lower()}")
    await sm.ai_responds(answer, model=MODEL, provider="openai", usage=usage)
    stats = await sm.get_stats()
    return {"reply": answer, "turns": stats["user_messages"], "cost": stats["estimated_cost"]}


@app.get("/users/{user_id}/history")
async def history(user_id: str) -> list[dict[str, Any]]:
    try:  # reading never creates: create=False insists that the session exists
        sm = SessionManager(f"user-{user_id}", store=store, create=False)
        return await sm.get_conversation()
    except SessionNotFound:
        raise HTTPException(404, f"no session for user {user_id!r}") from None


if __name__ == "__main__":
    with TestClient(app) as client:
        for user, message in [("alice", "My name is Alice."), ("bob", "My name is Bob.")]:
            reply = client.post(f"/users/{user}/chat", json={"message": message}).json()
            print(f"{user}: {reply['reply']}")
        client.post("/users/alice/chat", json={"message": "What is my name?"})
        turns = {u: len(client.get(f"/users/{u}/history").json()) // 2 for u in ("alice", "bob")}
        print(f"alice has {turns['alice']} turns; bob has {turns['bob']}")
        print(f"carol: HTTP {client.get('/users/carol/history').status_code}")
        ids = client.portal.call(store.list_sessions)
        print(f"sessions in the store: {', '.join(sorted(ids))}")
