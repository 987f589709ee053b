"""`hotline report`: reports from work orders."""

from __future__ import annotations

import typer

app = typer.Typer(help="Reports from work orders, as tables, JSON or CSV.")
