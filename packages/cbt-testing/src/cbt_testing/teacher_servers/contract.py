"""Request bodies checked against the locked anthropic SDK's own request types, extras forbidden.

The SDK's TypedDicts (MessageCreateParamsNonStreaming, a batch's Request) describe what API
version 2026-10-21 accepts; since that version, a removed field is absent from them (the SDK
has no `temperature`). So a body that carries a key the SDK's types do not declare is one the
API would refuse with 400 "<key>: Extra inputs are not permitted". Used by the contract test
(every body each provider builds) and by the loopback stand-in, so an SDK upgrade that drops
a field fails a test instead of a user's run.

    request_errors({"model": "x", "max_tokens": 5, "messages": [], "temperature": 1.0})
    -> ["temperature: Extra inputs are not permitted"]
"""

from __future__ import annotations

import collections.abc as abc
import types
from functools import lru_cache
from typing import Any, Literal, Union, get_args, get_origin

from typing_extensions import get_type_hints, is_typeddict


@lru_cache(maxsize=64)
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _allows_extra(cls: type) -> bool:
    config = getattr(cls, "__pydantic_config__", None) or {}
    return config.get("extra") == "allow"


def _is_sequence(origin: Any) -> bool:
    if origin in (list, tuple, abc.Iterable, abc.Sequence):
        return True
    return getattr(origin, "__name__", "") == "SequenceNotStr"


def _check_typeddict(value: Any, cls: type, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path or '(body)'}: Input should be a valid dictionary"]
    hints = _hints(cls)
    errors = [f"{path}{key}: Field required" for key in sorted(cls.__required_keys__)
              if key not in value]
    for key, item in value.items():
        if key in hints:
            errors += check(item, hints[key], f"{path}{key}.")
        elif not _allows_extra(cls):
            errors.append(f"{path}{key}: Extra inputs are not permitted")
    return errors


def _type_literal(cls: type) -> tuple[Any, ...] | None:
    hint = _hints(cls).get("type")
    if hint is None:
        return None
    for arg in (hint, *get_args(hint)):
        if get_origin(arg) is Literal:
            return get_args(arg)
    return None


def _fits_shape(value: Any, option: Any) -> bool:
    """Whether value is the right kind of thing for option (dict, list, scalar)."""
    origin = get_origin(option)
    if is_typeddict(option) or option is dict or origin in (dict, abc.Mapping):
        return isinstance(value, dict)
    if origin is not None and _is_sequence(origin):
        return isinstance(value, list | tuple)
    return not isinstance(value, dict | list | tuple)


def _check_union(value: Any, options: tuple[Any, ...], path: str) -> list[str]:
    """The value fits one option; TypedDict options are chosen by their `type` literal."""
    options = tuple(o for o in options if _fits_shape(value, o)) or options
    dicts = [o for o in options if is_typeddict(o)]
    if isinstance(value, dict) and "type" in value and dicts:
        typed = [o for o in dicts if value["type"] in (_type_literal(o) or ())]
        if not typed:
            allowed = sorted({str(t) for o in dicts for t in (_type_literal(o) or ())})
            return [f"{path}type: Input should be one of: {', '.join(allowed)}"]
        options = tuple(typed)
    elif isinstance(value, dict) and dicts:
        options = tuple(o for o in dicts if "type" not in o.__required_keys__) or options
    best: list[str] | None = None
    for option in options:
        errors = check(value, option, path)
        if not errors:
            return []
        if best is None or len(errors) < len(best):
            best = errors
    return best or [f"{path.rstrip('.') or '(body)'}: Input matches none of the allowed forms"]


def check(value: Any, tp: Any, path: str = "") -> list[str]:
    """Every way `value` breaks the type `tp` (a TypedDict, Union, Literal, list, ...)."""
    where = path.rstrip(".") or "(body)"
    if tp in (Any, object):
        return []
    if is_typeddict(tp):
        return _check_typeddict(value, tp, path)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return _check_union(value, get_args(tp), path)
    if origin is Literal:
        return [] if value in get_args(tp) else [
            f"{where}: Input should be {' or '.join(repr(a) for a in get_args(tp))}"]
    if origin in (dict, abc.Mapping) or tp is dict:
        if not isinstance(value, dict):
            return [f"{where}: Input should be a valid dictionary"]
        args = get_args(tp)
        return [e for k, v in value.items() for e in (check(v, args[1], f"{path}{k}.")
                                                      if args else [])]
    if origin is not None and _is_sequence(origin):
        if not isinstance(value, list | tuple):
            return [f"{where}: Input should be a valid list"]
        (item,) = get_args(tp)[:1] or (Any,)
        return [e for i, v in enumerate(value) for e in check(v, item, f"{path}{i}.")]
    if tp is type(None):
        return [] if value is None else [f"{where}: Input should be None"]
    if tp is bool:
        return [] if isinstance(value, bool) else [f"{where}: Input should be a valid boolean"]
    if tp in (int, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and (tp is float or float(value).is_integer())
        return [] if ok else [f"{where}: Input should be a valid {tp.__name__}"]
    if tp is str:
        return [] if isinstance(value, str) else [f"{where}: Input should be a valid string"]
    return []  # anything else (protocols, file types) is not checked


def request_errors(body: Any, kind: Literal["message", "batch_request"] = "message"
                   ) -> list[str]:
    """What the locked SDK's types say is wrong with a Messages body (or a batch request:
    {custom_id, params})."""
    from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
    from anthropic.types.messages.batch_create_params import Request

    cls = MessageCreateParamsNonStreaming if kind == "message" else Request
    return check(body, cls)


__all__ = ["check", "request_errors"]

