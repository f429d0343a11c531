"""The engine's floors for benchmark 7: dynamic providers that do no I/O, importable by module
path (pickled by reference, as ours is), with no attributes, behind a resource that registers
the same 27 property names as a ``Listener`` (a dynamic resource exposes an output only for a
property it registers). Two floors, because size is the cost:

- :class:`SizedFloorProvider` returns listener-sized values: the inputs, an ID, timestamps,
  a status, the managed list, what the API answers for the fields a program leaves out (an
  empty description, no stickiness), and ``None`` where a listener has ``None``;
- :class:`InputsFloorProvider` returns the inputs only, every other property ``None``.

A floor narrower or emptier than a listener would hide the engine's width and size costs, or
charge them to us; one defined in ``__main__`` would be pickled by value (~18 ms a resource
more at 500).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from otc_elb_listener import ListenerArgs, ListenerProvider
from otc_elb_listener.listener import OUTPUT_ONLY
from otc_elb_listener.pickling import pickler_left_intact
from otc_elb_listener.resource import arg_names, resource_inputs

_ARG_NAMES = arg_names(ListenerArgs)
_IDS = itertools.count()
#: The properties a listener registers: its inputs and its output-only fields.
PROPERTIES = (*_ARG_NAMES, *OUTPUT_ONLY)


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k in _ARG_NAMES and v is not None}


class InputsFloorProvider(dyn.ResourceProvider):
    """Returns the inputs only; every other property is ``None``."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        return dyn.CheckResult({**_inputs(news), "__provider": news.get("__provider")}, [])

    def _outputs(self, props: dict[str, Any], _id: str) -> dict[str, Any]:
        return {name: props.get(name) if name in _ARG_NAMES else None
                for name in PROPERTIES}

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        id_ = f"{next(_IDS):032x}"
        return dyn.CreateResult(id_, self._outputs(props, id_))

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        return dyn.ReadResult(id_, self._outputs(props, id_), _inputs(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        changed = [k for k, v in _inputs(news).items() if olds.get(k) != v]
        return dyn.DiffResult(changes=bool(changed))

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        return dyn.UpdateResult(self._outputs(news, id_))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class SizedFloorProvider(InputsFloorProvider):
    """Returns listener-sized values: what a listener's outputs hold, with no API behind."""

    def _outputs(self, props: dict[str, Any], id_: str) -> dict[str, Any]:
        now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        inputs = _inputs(props)
        outputs = {name: props.get(name) for name in _ARG_NAMES}
        outputs.update(listener_id=id_, status="ACTIVE", admin_state_up=True,
                       description="", session_sticky=False, healthcheck_id=None,
                       member_number=0, create_time=now, update_time=now,
                       managed_fields=sorted(inputs))
        return outputs


class FloorListener(dyn.Resource, module="elb", name="Listener"):
    """A resource of either floor, with a listener's inputs, its 27 property names and its
    type token (the URN, stored three times a resource, is as long as a listener's)."""

    def __init__(self, resource_name: str, args: ListenerArgs,
                 provider: dyn.ResourceProvider) -> None:
        props = resource_inputs("FloorListener", _ARG_NAMES, OUTPUT_ONLY, args, {})
        with pickler_left_intact():  # as ours: the SDK's pickler patch fails near 500
            super().__init__(provider, resource_name, props, pulumi.ResourceOptions())


class EncryptedListenerProvider(ListenerProvider):
    """Our listener provider as it was stored before it said it holds no secret: Pulumi's
    default, the pickled provider an encrypted secret in every resource's inputs and
    outputs (benchmark 7's "before" side for the plain provider, in the same run)."""

    serialize_as_secret_always = True
