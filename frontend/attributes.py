"""Attribute reads on symbolic values, in CPython's lookup order (data descriptors, then the
instance dict, then the class), each guarded so a later call sees what a reassignment changes."""
from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import Unsupported, UserCodeError
from .guards import Guard
from .sources import AttrSource
from .values import (
    ArrayValue,
    BoundMethodValue,
    ConstValue,
    DictValue,
    FunctionValue,
    ListValue,
    ObjectValue,
    SizeValue,
    TupleValue,
    Value,
)
from .wrapping import TRUSTED_MODULES, _is_trusted, wrap

if TYPE_CHECKING:
    from .tracer import Tracer


def get_attr(tracer: Tracer, value: Value, name: str) -> Value:
    if isinstance(value, ArrayValue):
        from .numpy_api import array_attribute

        return array_attribute(tracer, value, name)
    if isinstance(value, ObjectValue):
        return _object_attribute(tracer, value, name)
    if isinstance(value, TupleValue) and name in (fields := getattr(value.kind, "_fields", ())):
        return value.items[fields.index(name)]  # a named tuple's field (``.logabsdet``)
    if isinstance(value, DictValue | ListValue | TupleValue):
        from .containers import container_method

        return container_method(tracer, value, name)
    if isinstance(value, ConstValue):
        return _constant_attribute(tracer, value, name)
    if isinstance(value, BoundMethodValue | FunctionValue):
        raise Unsupported(f"reading attribute {name!r} of a function", tracer.loc)
    raise Unsupported(f"attribute {name!r} of {type(value).__name__}", tracer.loc)


def _constant_attribute(tracer: Tracer, value: ConstValue, name: str) -> Value:
    obj = value.value
    try:
        attr = getattr(obj, name)
    except AttributeError as exc:
        raise UserCodeError(f"AttributeError: {exc}", tracer.loc) from exc
    if isinstance(obj, types.ModuleType):
        trusted = obj.__name__.split(".")[0] in TRUSTED_MODULES
        source = AttrSource(value.source, name) if value.source is not None and not trusted else None
        if isinstance(attr, np.ndarray):
            if value.source is None:
                raise Unsupported(f"array {name!r} of module {obj.__name__}", tracer.loc)
            source = AttrSource(value.source, name)
        return wrap(tracer, attr, source)
    if isinstance(obj, type) and not _is_trusted(obj):
        # A user class: its attributes (static methods, constants) can be reassigned, so they
        # are read through a source and guarded like a module's.
        if value.source is None:
            raise Unsupported(f"attribute {name!r} of class {obj.__name__} with no source", tracer.loc)
        return wrap(tracer, attr, AttrSource(value.source, name))
    if isinstance(attr, types.FunctionType | types.MethodType):
        raise Unsupported(f"method {name!r} of a {type(obj).__name__} constant", tracer.loc)
    return ConstValue(attr)  # dtype.itemsize, str.upper and the like: facts of a guarded constant


# What a class lookup finds when no class on the MRO names the attribute.
_MISSING = object()
_SLOT_WRAPPER = type(object.__getattribute__)  # a C type's method, __getattribute__ included


def _object_attribute(tracer: Tracer, value: ObjectValue, name: str) -> Value:
    """``obj.name`` in CPython's order (object.__getattribute__): a data descriptor on the class (a
    property, a slot) first, then the instance dict, then the class's methods and attributes.
    Values are read through ``obj.name`` itself (its guard fetches it as CPython would); methods
    through the class, guarded that nothing on the instance hides them."""
    assert value.source is not None  # (an ObjectValue is made with its source: wrapping.py)
    obj = value.obj
    found = _class_attribute(tracer, type(obj), name)
    if _is_data_descriptor(found):
        raise Unsupported(f"descriptor or property {name!r} of {type(obj).__name__}", tracer.loc)
    if name in obj.__dict__:
        return wrap(tracer, obj.__dict__[name], AttrSource(value.source, name))
    if found is _MISSING:
        if hasattr(type(obj), "__getattr__"):
            raise Unsupported(f"{type(obj).__name__} customises attribute access (__getattr__)", tracer.loc)
        raise UserCodeError(f"AttributeError: {type(obj).__name__!r} object has no attribute {name!r}",
                            tracer.loc)
    if isinstance(found, types.FunctionType):
        return BoundMethodValue(_class_function(tracer, value, name, found), value)
    if isinstance(found, staticmethod) and isinstance(found.__func__, types.FunctionType):
        return _class_function(tracer, value, name, found.__func__)
    if hasattr(type(found), "__get__"):
        raise Unsupported(f"descriptor or property {name!r} of {type(obj).__name__}", tracer.loc)
    return wrap(tracer, found, AttrSource(value.source, name))


def _class_function(tracer: Tracer, value: ObjectValue, name: str, function: types.FunctionType) -> Value:
    """A method (or static method) of ``value``'s class, fetched through the class: guarded to stay
    the class's, with no instance attribute of that name and no ``__getattribute__`` to hide it."""
    assert value.source is not None  # (an ObjectValue is made with its source: wrapping.py)
    tracer.guards.add(Guard.plain_attribute_lookup(value.source, type(value.obj).__getattribute__))
    tracer.guards.add(Guard.not_in_instance_dict(value.source, name))
    return wrap(tracer, function, AttrSource(AttrSource(value.source, "__class__"), name))


def _class_attribute(tracer: Tracer, kind: type, name: str) -> Any:
    """What ``name`` names on class ``kind`` (the first dict of its MRO that has it), or _MISSING.
    A class that overrides ``__getattribute__`` in Python decides lookups itself: a break. (C types
    name their generic lookup as a slot wrapper of their own: a namespace, a dict subclass.)"""
    if type(kind.__getattribute__) is not _SLOT_WRAPPER:
        raise Unsupported(f"{kind.__name__} customises attribute access (__getattribute__)", tracer.loc)
    for klass in kind.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return _MISSING


def _is_data_descriptor(found: Any) -> bool:
    """A class attribute that takes precedence over the instance dict (a property, a slot)."""
    return found is not _MISSING and (hasattr(type(found), "__set__") or hasattr(type(found), "__delete__"))


def has_attr(tracer: Tracer, value: Value, name: str) -> bool:
    """``hasattr(value, name)``, guarded where a later call could see another answer (an attribute
    added to or deleted from a user object, module or class)."""
    if isinstance(value, ObjectValue):
        return _object_has_attribute(tracer, value, name)
    if isinstance(value, ConstValue) and not isinstance(value, SizeValue):
        obj = value.value
        present = hasattr(obj, name)
        if isinstance(obj, types.ModuleType | type) and not _is_trusted_namespace(obj):
            if value.source is None:
                raise Unsupported(f"hasattr on {obj.__name__} with no source to guard", tracer.loc)
            tracer.guards.add(Guard.has_attribute(value.source, name, present))
        return present  # (other constants are guarded facts, and so are their attributes)
    try:
        get_attr(tracer, value, name)
    except UserCodeError:
        return False
    return True


def _object_has_attribute(tracer: Tracer, value: ObjectValue, name: str) -> bool:
    assert value.source is not None  # (an ObjectValue is made with its source: wrapping.py)
    obj = value.obj
    found = _class_attribute(tracer, type(obj), name)
    in_instance = name in obj.__dict__ and not _is_data_descriptor(found)
    plain = found is _MISSING or isinstance(found, types.FunctionType | staticmethod | classmethod) or \
        not hasattr(type(found), "__get__")
    if not in_instance and (not plain or found is _MISSING and hasattr(type(obj), "__getattr__")):
        raise Unsupported(f"hasattr of {name!r}, which {type(obj).__name__} computes (a descriptor or "
                          "__getattr__ may raise AttributeError)", tracer.loc)
    present = in_instance or found is not _MISSING
    tracer.guards.add(Guard.has_attribute(value.source, name, present))
    return present


def _is_trusted_namespace(obj: types.ModuleType | type) -> bool:
    """NumPy's and the standard modules Ember trusts (and their classes) keep their attributes."""
    module = obj.__name__ if isinstance(obj, types.ModuleType) else obj.__module__
    return module.split(".")[0] in TRUSTED_MODULES
