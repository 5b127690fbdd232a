"""Leaving empty members out of what is sent: :func:`prune` (null, ``""``, empty lists and
objects, at every depth) and :func:`put_pruned` for generated code.

Per-event hot path: containers without anything to remove are returned as they are, and are
copied only when something changes. The public entry point is :mod:`capic.runtime.payload`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["prune", "put_pruned"]


def prune(value: Any) -> Any:
    """``value`` as it is sent: object members that are null, ``""``, or a list or object
    that is empty (as written, or once its own members are pruned) are left out, at every
    depth; list items that are null are left out, and so are items that were objects whose
    members all were. Other list items stay as they are (``extinfo`` sends ``""`` for a
    position not given). Lists and objects are copied only when something changes."""
    t = type(value)
    if t is dict:
        # Fast path: no empty member and no nested container (most objects): returned as is.
        for v in value.values():
            if v is None:
                break
            tv = type(v)
            if tv is dict or tv is list or (tv is str and not v):
                break
        else:
            return value
    elif t is list:
        for v in value:
            if v is None:
                break
            tv = type(v)
            if tv is dict:
                # A list of flat objects without empty members (``contents``): as is.
                for w in v.values():
                    if w is None or type(w) is dict or type(w) is list or w == "":
                        break
                else:
                    if v:
                        continue
                break
            if tv is list:
                break
        else:
            return value
    else:
        return value
    return _prune(value)


def _prune(value: Any) -> Any:
    if type(value) is dict:
        out: dict[str, Any] | None = None
        for k, v in value.items():
            if v is None or (type(v) is str and not v):
                if out is None:
                    out = {}
                    for k2, v2 in value.items():
                        if k2 == k:
                            break
                        out[k2] = v2
                continue
            if type(v) is dict or type(v) is list:
                p = prune(v)
                if (p is not v or not p) and out is None:
                    out = {}
                    for k2, v2 in value.items():
                        if k2 == k:
                            break
                        out[k2] = v2
                if not p:
                    continue  # an empty member (or one whose members all were) is left out
                v = p
            if out is not None:
                out[k] = v
        return value if out is None else out
    if type(value) is list:
        items: list[Any] | None = None
        for i, v in enumerate(value):
            if v is None:
                if items is None:
                    items = value[:i]
                continue
            if type(v) is dict or type(v) is list:
                p = prune(v)
                if p is not v and items is None:
                    items = value[:i]
                if type(p) is dict and not p and v:
                    continue
                v = p
            if items is not None:
                items.append(v)
        return value if items is None else items
    return value


def put_pruned(section: dict[str, Any], key: str, value: dict[str, Any] | list[Any]) -> None:
    """``section[key] = prune(value)``, unless that is empty (left out, as :func:`prune`
    leaves it out of its parent). Generated code builds sections without empty members with
    it (the containers of ``SendSpec.clean`` sections)."""
    p = prune(value)
    if p:
        section[key] = p
