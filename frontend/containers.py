"""Methods of lists, tuples and dicts built during tracing."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .conversions import NotConstant, constant_of
from .errors import Unsupported, UserCodeError
from .values import ConstValue, DictValue, DictViewValue, HandlerValue, ListValue, TupleValue, Value

if TYPE_CHECKING:
    from .tracer import Tracer


def container_method(tracer: Tracer, container: Value, name: str) -> Value:
    if isinstance(container, ListValue) and name in ("append", "extend", "pop", "insert"):
        if container.source is not None:
            raise Unsupported(f"list.{name} on a list from outside the function (a side effect)", tracer.loc)
        return HandlerValue(f"list.{name}", lambda t, args, kwargs: _list_mutation(t, container, name, args),
                            receiver=container, attribute=name)
    if isinstance(container, DictValue) and name in ("items", "keys", "values", "get"):
        return HandlerValue(f"dict.{name}", lambda t, args, kwargs: _dict_view(t, container, name, args),
                            receiver=container, attribute=name)
    if isinstance(container, TupleValue | ListValue) and name in ("index", "count"):
        def lookup(t: Tracer, args: list[Value], kwargs: dict) -> Value:
            try:
                items, wanted = constant_of(container), constant_of(args[0])
                return ConstValue(getattr(items, name)(wanted))
            except NotConstant:
                raise Unsupported(f"{name} on a sequence of arrays", t.loc) from None
            except ValueError as exc:
                raise UserCodeError(str(exc), t.loc) from exc

        return HandlerValue(f"sequence.{name}", lookup, receiver=container, attribute=name)
    raise Unsupported(f"method {name!r} of {type(container).__name__}", tracer.loc)


def _list_mutation(tracer: Tracer, target: ListValue, name: str, args: list[Value]) -> Value:
    from .operators import iterate, record_items_undo

    record_items_undo(tracer, target)
    if name == "append":
        target.items.append(args[0])
    elif name == "extend":
        target.items.extend(iterate(tracer, args[0]))
    elif name == "insert":
        target.items.insert(constant_of(args[0]), args[1])
    else:
        try:
            return target.items.pop(*(constant_of(a) for a in args))
        except IndexError as exc:
            raise UserCodeError(f"IndexError: {exc}", tracer.loc) from exc
    return ConstValue(None)


def _dict_view(tracer: Tracer, target: DictValue, name: str, args: list[Value]) -> Value:
    if name in ("keys", "values", "items"):
        return DictViewValue(target, name)
    key = constant_of(args[0])
    return target.items.get(key, args[1] if len(args) > 1 else ConstValue(None))


def view_items(view: DictViewValue) -> list[Value]:
    """What iterating a dict view gives now: the dict's keys, values or (key, value) pairs."""
    return [view_item(view.of, ConstValue(key), view.kind) for key in view.of.items]


def view_item(mapping: DictValue, key: Value, kind: str) -> Value:
    """A dict view's item for ``key`` (a ConstValue): the key, its value now, or both."""
    if kind == "keys":
        return key
    value = mapping.items[constant_of(key)]
    return value if kind == "values" else TupleValue([key, value])
