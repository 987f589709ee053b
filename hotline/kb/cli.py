"""`hotline kb`: the knowledge base from the command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="Knowledge base (一问一答): import, search.")
