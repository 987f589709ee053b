"""`/api/work-orders`: work orders for operators, dispatch, departments and supervisors."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/work-orders", tags=["work orders"])
