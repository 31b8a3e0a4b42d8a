"""Reading a render input: annotations by key and placement facts.

    quantize = inputs.annotation(input, "example.com/tgi-quantize")  # None when absent
"""

from __future__ import annotations

from .wit import RenderInput

__all__ = ["annotation", "annotations", "is_multinode"]


def annotations(input: RenderInput) -> dict[str, str]:
    """The graph's annotations (`graph.annotations`) as a dict (the first of a repeated key wins)."""
    out: dict[str, str] = {}
    for kv in input.graph.annotations:
        out.setdefault(kv.key, kv.value)
    return out


def annotation(input: RenderInput, key: str) -> str | None:
    """The value of annotation `key` in `graph.annotations`, or None when absent."""
    return next((kv.value for kv in input.graph.annotations if kv.key == key), None)


def is_multinode(input: RenderInput) -> bool:
    """True when the component spans more than one node."""
    return input.placement.node_count > 1
