"""A diagram of a menu, drawn from the same document the interpreter runs (Mermaid text)."""

from __future__ import annotations

import re

from ivr.document import MenuDocument, targets_of

SHAPES = {
    "menu": ("{{", "}}"),
    "play": ("[/", "/]"),
    "collect_speech": ("[(", ")]"),
    "collect_digits": ("[[", "]]"),
    "route": ("([", "])"),
    "transfer": ("([", "])"),
    "hangup": ("((", "))"),
    "set": ("[", "]"),
    "time_switch": ("{", "}"),
    "goto": ("[", "]"),
}
_UNSAFE = re.compile(r'["<>{}\[\]()|#;`]')


def _id(node_id: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node_id)


def _text(text: str) -> str:
    return _UNSAFE.sub(" ", text).strip()


def mermaid(document: MenuDocument) -> str:
    """Mermaid flowchart text: one box per node (shape by type), one arrow per edge, labelled
    with the key or branch; arrows to nodes that do not exist point at a red box."""
    lines = ["flowchart TD"]
    lines.append(f'  start(("start")) --> {_id(document.start)}')
    missing: set[str] = set()
    for node_id, node in document.nodes.items():
        left, right = SHAPES[node.type]
        label = f"{node_id}<br/>{node.type}"
        prompt = getattr(node, "prompt", None)
        if prompt:
            text = document.prompts.get(prompt, {}).get(document.default_language, prompt)
            label += f"<br/>{_text(text)[:40]}"
        if node.type == "transfer" and getattr(node, "number", None):
            label += f"<br/>dial {node.number}"
        if node.type == "collect_digits" and getattr(node, "tag", None):
            label += f"<br/>digits into {node.tag}"
        confirm = getattr(node, "confirm_emergency", None)
        if confirm is not None:
            # The question is not a node of its own: its three answers are drawn here.
            label += (
                f"<br/>emergency? key 1: hand-off, key 2: go on, "
                f"no key in {confirm.timeout:g} s: operator first"
            )
        lines.append(f'  {_id(node_id)}{left}"{_text_label(label)}"{right}')
    for node_id, node in document.nodes.items():
        for field, target in targets_of(node):
            if target is None:
                continue
            if target not in document.nodes:
                missing.add(target)
            edge = field.removeprefix("options.")
            lines.append(f'  {_id(node_id)} -->|"{_text(edge)}"| {_id(target)}')
    for target in sorted(missing):
        lines.append(f'  {_id(target)}["{_text(target)} (missing)"]:::missing')
    if missing:
        lines.append("  classDef missing fill:#fdd,stroke:#c00")
    return "\n".join(lines) + "\n"


def _text_label(label: str) -> str:
    return label.replace('"', " ")
