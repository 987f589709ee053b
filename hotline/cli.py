"""The `hotline` command: one entry point, sub-commands registered by feature modules."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="hotline",
    help="12345 hotline controller: IVR, speech, routing and recordings over Asterisk.",
    no_args_is_help=True,
    add_completion=False,
)
bench_app = typer.Typer(help="Benchmarks: print a table and write JSON.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


def _register_features() -> None:
    # Each feature module adds its own commands; importing them here keeps start-up in one place.
    from hotline.core import cli as cli_core

    cli_core.register(app, bench_app)
    try:
        from hotline.classify import cli as cli_classify
    except ImportError:  # pragma: no cover - feature not installed in this tree
        pass
    else:
        cli_classify.register(app, bench_app)
    try:
        from hotline.speech import cli as cli_asr
    except ImportError:  # pragma: no cover
        pass
    else:
        cli_asr.register(app, bench_app)
    from hotline.recordings import cli as cli_recordings

    cli_recordings.register(app, bench_app)

    from hotline.roster import cli as cli_roster

    cli_roster.register(app, bench_app)

    from hotline.ivr import cli as cli_ivr

    cli_ivr.register(app, bench_app)


_register_features()


def main() -> None:
    app()
