"""`/api/kb`: the knowledge base."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/kb", tags=["knowledge base"])
