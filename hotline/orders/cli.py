"""`hotline orders`: work orders from the command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="Work orders (工单): list, show, change.")
