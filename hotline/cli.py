"""The `hotline` command: each feature's Typer app, assembled in one place.

The order of `add_typer` calls is the order `hotline --help` lists the commands. The apps
added without a name (core, classify) bring top-level commands (`hotline serve`,
`hotline classify`). Every command imports its heavy modules when it runs.
"""

from __future__ import annotations

import os

import typer

from hotline.bench import cli as bench
from hotline.classify import cli as classify
from hotline.core import cli as core
from hotline.devtools import cli as devtools
from hotline.ivr import cli as ivr
from hotline.recordings import cli as recordings
from hotline.roster import cli as roster
from hotline.speech import cli as speech

app = typer.Typer(
    name="hotline",
    help="12345 hotline controller: IVR, speech, routing and recordings over Asterisk.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(core.app)
app.add_typer(classify.app)
app.add_typer(bench.app, name="bench")
app.add_typer(devtools.app, name="sandbox")
app.add_typer(core.users_app, name="users")
app.add_typer(core.db_app, name="db")
app.add_typer(speech.app, name="asr")
app.add_typer(recordings.app, name="recordings")
app.add_typer(roster.app, name="roster")
app.add_typer(ivr.app, name="ivr")


#: files the controller and its commands make (the database, recordings, exports) are its
#: user's alone; what Asterisk must read is given its mode where it is written
PRIVATE_UMASK = 0o077


def main() -> None:
    os.umask(PRIVATE_UMASK)
    app()
