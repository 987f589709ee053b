"""The IVR: menu documents and their validation, the per-call interpreter and its simulator.

- `ivr.document`: the menu document (pydantic), the shipped default 12345 menu;
- `ivr.validation`: every problem of a document, with the node path;
- `ivr.interpreter`: walks one document for one call over a `Channel` (an AGI session);
- `ivr.simulate`: the same interpreter over a scripted channel, without a phone;
- `ivr.routing_port`: the `Router` port the `route` step calls (`CallFacts` in, `RouteTarget` out);
- `ivr.calendar`, `ivr.diagram`, `ivr.diff`: time switches, Mermaid drawings, version diffs.

This package imports no other package of the project: the router, the classifier and the
speech listener are passed in (`hotline/ivr/ports.py` implements them; the controller wires
them in `hotline/ivr/runtime.py`).
"""
