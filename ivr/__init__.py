"""The IVR: menu documents and their validation, the per-call interpreter and its simulator.

- `ivr.document`: the menu document (pydantic), the shipped default 12345 menu;
- `ivr.validation`: every problem of a document, with the node path;
- `ivr.interpreter`: walks one document for one call over a `Channel` (an AGI session);
- `ivr.simulate`: the same interpreter over a scripted channel, without a phone;
- `ivr.router`: `StaticRouter`, the router used when no roster router is configured;
- `ivr.speech`: the AudioSocket listener and classifier adapter for `collect_speech`;
- `ivr.calendar`, `ivr.diagram`, `ivr.diff`: time switches, Mermaid drawings, version diffs.

This package never imports `hotline`; the controller wires it in `hotline/ivr/runtime.py`.
"""
