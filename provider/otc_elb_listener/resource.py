"""What every resource class of this package does with its constructor's arguments: one
place for the inputs, the provider given through the options, and ``import_``."""

from __future__ import annotations

import copy
import inspect
import typing
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import fields
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar, cast

import pulumi
import pulumi.dynamic as dyn

from .adoption import IMPORT, import_from_opts
from .pickling import pickler_left_intact

_Provider = TypeVar("_Provider", bound=dyn.ResourceProvider)
_Class = TypeVar("_Class", bound=type)


def _translated(hint: Any) -> bool:
    """Whether the SDK's output translation acts on a value of this type: an ``int`` (the
    engine sends every number as a float) or an enum, at any depth."""
    if hint is int or (inspect.isclass(hint) and issubclass(hint, Enum)):
        return True
    return any(_translated(arg) for arg in typing.get_args(hint))


def lean_outputs(cls: _Class) -> _Class:
    """Keep at run time only the output annotations the SDK acts on, evaluated once.

    The SDK reads a resource class's annotations again for every resource whose outputs it
    resolves (``pulumi._types.resource_types``, at preview too; its cost: docs/benchmarks.md,
    "Figures behind design choices"). It acts only on integers (floats back to ``int``) and
    enums; type checkers still read every annotation in the source."""
    hints = inspect.get_annotations(cls, eval_str=True)
    cls.__annotations__ = {name: hint for name, hint in hints.items() if _translated(hint)}
    return cls


def arg_names(args_class: type) -> tuple[str, ...]:
    """The input names of an ``...Args`` dataclass."""
    return tuple(f.name for f in fields(args_class))


def resource_inputs(kind: str, names: Sequence[str], output_only: Sequence[str], args: Any,
                    kwargs: dict[str, Any]) -> dict[str, Any]:
    """The props a dynamic resource registers: every input (``args`` and keywords, unset
    ones as None) and every output-only property as None (a dynamic resource exposes an
    output only for a property it registers)."""
    unknown = sorted(set(kwargs) - set(names))
    if unknown:
        raise TypeError(f"{kind} got unknown input(s) {', '.join(unknown)}; inputs are "
                        f"{', '.join(names)}")
    values = {name: getattr(args, name) for name in names} if args else {}
    values.update(kwargs)
    props: dict[str, Any] = {name: values.get(name) for name in names}
    props.update({name: None for name in output_only})
    return props


def provider_and_options(kind: str, provider_type: type[_Provider], provider: _Provider | None,
                         opts: pulumi.ResourceOptions | None, props: dict[str, Any]
                         ) -> tuple[_Provider, pulumi.ResourceOptions | None]:
    """The provider (by keyword, or ``opts=ResourceOptions(provider=...)`` as for any
    provider: a dynamic provider is not a ``ProviderResource``, so the SDK would fail on it),
    and the options without it and without ``import_`` (which goes into ``props``, see
    :mod:`.adoption`). The options are copied, never changed in place."""
    given = getattr(opts, "provider", None) if opts is not None else None
    if isinstance(given, provider_type):
        if provider is not None and provider is not given:
            raise TypeError(f"{kind} got two providers, provider= and opts.provider: give one")
        opts = copy.copy(opts)
        assert opts is not None
        opts.provider = None
        provider = given
    imported, opts = import_from_opts(opts)
    if imported is not None:
        props[IMPORT] = imported
    return provider or provider_type(), opts


class _Lazy:
    """An awaitable that makes its coroutine only when awaited: an output whose resource
    failed to register is never awaited, and a coroutine made up front would then warn
    "never awaited" at garbage collection."""

    def __init__(self, make: Callable[[], Awaitable[Any]]) -> None:
        self.make = make

    def __await__(self) -> Generator[Any, None, Any]:
        return self.make().__await__()


def identity_output(resource: pulumi.CustomResource,
                    registered: pulumi.Output[str]) -> pulumi.Output[str]:
    """The ``<kind>_id`` output a dependant reads: the resource's own ID, which the engine
    keeps known at preview whenever the resource keeps its identity (an update or no change;
    docs/engines.md, "Plans"). The registered output alone is unknown at the preview of any
    update, because the engine previews an update's outputs as its inputs: every dependant
    would then show as replaced. Where the ID is unknown (a create, a replacement) the
    registered output stands: an adoption's ``listener_id`` input is known even then."""
    own_id = resource.id

    async def known() -> bool:
        return await own_id.is_known() or await registered.is_known()

    async def value() -> str:
        # ``future()`` gives None for an unknown value: None stands for unknown here too.
        chosen = own_id if await own_id.is_known() else registered
        return cast(str, await chosen.future())

    async def resources() -> set[pulumi.Resource]:
        return await own_id.resources() | await registered.resources()

    return pulumi.Output(cast("Awaitable[set[pulumi.Resource]]", _Lazy(resources)),
                         cast("Awaitable[str]", _Lazy(value)),
                         cast("Awaitable[bool]", _Lazy(known)),
                         cast("Awaitable[bool]", _Lazy(registered.is_secret)))


_Resource = TypeVar("_Resource", bound="LiveLookup")


class LiveLookup:
    """Every resource's static ``get``: Pulumi's lookup of a live object the stack does not
    own; the engine reads it (``ResourceOptions(id=...)``) and never changes or deletes it
    (docs/engines.md, "Lookups and .get")."""

    @classmethod
    def get(cls: type[_Resource], resource_name: str, id: pulumi.Input[str],
            opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> _Resource:
        make: Callable[..., _Resource] = cls
        return make(resource_name, None, pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(id=id)), **inputs)


_Args = TypeVar("_Args")
_P = TypeVar("_P", bound=dyn.ResourceProvider)


#: The outputs every object of a rule table has and no program sets: the service's times,
#: and the inputs the program manages (``managed_fields``).
STAMPS = ("create_time", "update_time", "managed_fields")


class ElbResource(LiveLookup, dyn.Resource, Generic[_Args, _P]):
    """What every resource class of this package is: inputs from its ``...Args`` dataclass
    and keywords, its provider (by keyword or options), ``import_``, and its ``<kind>_id``
    output as its own ID (:func:`identity_output`).

    A resource class declares itself in its ``class`` line, as
    ``Listener(ElbResource[ListenerArgs, ListenerProvider], identity="listener_id",
    output_only=OUTPUT_ONLY)``: the inputs are its ``...Args`` dataclass's fields, its
    provider the class named, ``identity`` the output that is the object's ID and
    ``output_only`` the outputs only the service sets (:data:`STAMPS` unless given). Its
    body holds its output annotations and what is its own."""

    _provider_type: ClassVar[type[dyn.ResourceProvider]]
    _arg_names: ClassVar[tuple[str, ...]]
    _output_only: ClassVar[tuple[str, ...]]
    _identity: ClassVar[str]

    def __init_subclass__(cls, *, identity: str = "", output_only: Sequence[str] = STAMPS,
                          **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not identity:  # an abstract layer (:class:`TableResource`)
            return
        args_type, provider_type = _declared(cls)
        cls._provider_type, cls._arg_names = provider_type, arg_names(args_type)
        cls._output_only, cls._identity = tuple(output_only), identity

    def __init__(self, resource_name: str, args: _Args | None = None,
                 opts: pulumi.ResourceOptions | None = None, *, provider: _P | None = None,
                 **kwargs: Any) -> None:
        kind = type(self).__name__
        props = resource_inputs(kind, self._arg_names, self._output_only, args, kwargs)
        chosen, opts = provider_and_options(kind, self._provider_type, provider, opts, props)
        opts = self._options(props, opts)
        with pickler_left_intact():
            super().__init__(chosen, resource_name, props, opts)
        setattr(self, self._identity, identity_output(self, getattr(self, self._identity)))

    def _options(self, props: dict[str, Any], opts: pulumi.ResourceOptions | None
                 ) -> pulumi.ResourceOptions | None:
        """A subclass's last word on its props (in place) and options: secrets."""
        return opts


def _declared(cls: type) -> tuple[type, type[dyn.ResourceProvider]]:
    """The ``...Args`` dataclass and the provider class a resource class is declared with
    (``ElbResource[Args, Provider]``, or a layer of it)."""
    for base in getattr(cls, "__orig_bases__", ()):
        origin = typing.get_origin(base)
        if inspect.isclass(origin) and issubclass(origin, ElbResource):
            args_type, provider_type = typing.get_args(base)
            return args_type, provider_type
    raise TypeError(f"{cls.__name__} must be declared as ElbResource[<Args>, <Provider>]")


class TableResource(ElbResource[_Args, _P]):
    """A resource whose object has a rule table (:mod:`.table_provider`), with the outputs
    of :data:`STAMPS`."""

    create_time: pulumi.Output[str]
    update_time: pulumi.Output[str]
    #: The inputs the program sets: a refresh reads them back as inputs, so that drift shows
    #: at the next preview.
    managed_fields: pulumi.Output[list[str]]
