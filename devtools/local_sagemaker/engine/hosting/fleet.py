"""An endpoint's serving fleet: its variants' instances, the routing of invocations, blue/green swaps.

Routing is SageMaker's: `TargetVariant` picks a variant by name, otherwise a variant is drawn
in proportion to its weight; within a variant the least busy ready instance answers. A request
that finds no ready instance (one being replaced, or a restarted endpoint's servers starting
again) waits for one, up to the invocation timeout.

An update is blue/green, as UpdateEndpoint documents it: the new variants' instances start
and pass their health checks while the old ones keep serving; then one swap under the lock
routes every new request to the new variants; the old instances finish the requests they
hold (the fleet counts them) and only then stop. So no invocation fails during the switch.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..jobs.lifecycle import JobContext
from .instance import ServerInstance
from .model_archive import ModelArchive
from .serving_container import ServingContainer
from .serving_errors import DeploymentFailure, InstanceUnavailable, InvocationRefused, ModelFailure

INVOCATION_TIMEOUT_SECONDS = 60.0  # SageMaker's: a model has 60 s to answer
HEALTH_CHECK_TIMEOUT_SECONDS = 300.0
INSTANCE_ATTEMPTS = 3
LOG_FLUSH_SECONDS = 1.0


@dataclass(frozen=True)
class VariantSpec:
    """A production variant as its endpoint config and model define it (plain data: it is saved)."""

    name: str
    model_name: str
    weight: float
    instance_count: int
    instance_type: str
    container: ServingContainer


@dataclass(frozen=True)
class Invocation:
    variant: str
    content_type: str
    body: bytes


class Variant:
    def __init__(self, spec: VariantSpec, instances: list[ServerInstance]) -> None:
        self.spec = spec
        self.instances = instances

    def ready_count(self) -> int:
        return sum(1 for instance in self.instances if instance.ready)

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()


class Fleet:
    def __init__(self, endpoint_name: str, context: JobContext, folder: Path, restarting: bool = False) -> None:
        """`restarting`: an InService endpoint whose servers are about to start again; invocations wait for them."""
        self.endpoint_name = endpoint_name
        self.context = context
        self.folder = folder
        self.variants: list[Variant] = []
        self._launching: list[Variant] = []
        self._restarting = restarting
        self._launch_failure: str | None = None  # why the last launch failed: said when nothing serves
        self._condition = threading.Condition()
        self._stopped = threading.Event()
        self._deployments = 0
        self._flusher = threading.Thread(target=self._flush_logs, daemon=True, name=f"endpoint-{endpoint_name}-logs")
        self._flusher.start()

    # --- deployments -------------------------------------------------------------------------
    def launch(self, specs: list[VariantSpec]) -> list[Variant]:
        """Start every instance of `specs` and wait for their health checks; DeploymentFailure (all stopped) if one fails."""
        with self._condition:
            self._deployments += 1
            deployment = self.folder / f"deployment-{self._deployments}"
        s3 = self.context.clients.s3
        variants = []
        for spec in specs:
            archive = ModelArchive(s3, spec.container, deployment / spec.name)
            instances = [ServerInstance(self.endpoint_name, spec.name, archive, self.context,
                                        deployment / spec.name / f"instance-{number}", self._changed)
                         for number in range(spec.instance_count)]
            variants.append(Variant(spec, instances))
        with self._condition:
            if self._stopped.is_set():
                raise DeploymentFailure("the endpoint was deleted while it was deployed")
            self._launching.extend(variants)
        try:
            for variant in variants:
                for instance in variant.instances:
                    instance.start()
            for variant in variants:
                for instance in variant.instances:
                    try:
                        instance.wait_started(HEALTH_CHECK_TIMEOUT_SECONDS)
                    except DeploymentFailure as error:
                        raise DeploymentFailure(
                            f"The primary container for production variant {variant.spec.name} did not pass the ping "
                            f"health check. Please check CloudWatch logs for this endpoint. {error}"
                        ) from None
        except BaseException as error:
            with self._condition:
                self._launching = [variant for variant in self._launching if variant not in variants]
                self._restarting = False
                self._launch_failure = str(error) or type(error).__name__
                self._condition.notify_all()
            self._retire(variants, drain=False)
            shutil.rmtree(deployment, ignore_errors=True)
            raise
        return variants  # still launching until serve() swaps them in: no instant without either

    def serve(self, variants: list[Variant]) -> list[Variant]:
        """Route every new invocation to `variants`; return the variants that served until now."""
        with self._condition:
            self._launching = [variant for variant in self._launching if variant not in variants]
            self._restarting = False
            stopped = self._stopped.is_set()
            if not stopped:
                previous, self.variants = self.variants, variants
            self._condition.notify_all()
        if stopped:  # deleted while they started: they never serve
            self._retire(variants, drain=False)
            raise DeploymentFailure("the endpoint was deleted while it was deployed")
        return previous

    def retire(self, variants: list[Variant]) -> None:
        """Stop variants no longer served, once they have answered the invocations they hold."""
        self._retire(variants, drain=True)

    def _retire(self, variants: list[Variant], drain: bool) -> None:
        instances = [instance for variant in variants for instance in variant.instances]
        if drain:
            deadline = time.monotonic() + INVOCATION_TIMEOUT_SECONDS
            with self._condition:
                while any(instance.in_flight for instance in instances) and time.monotonic() < deadline:
                    self._condition.wait(deadline - time.monotonic())
        for variant in variants:
            variant.stop()

    def reweigh(self, weights: dict[str, float]) -> list[VariantSpec]:
        """UpdateEndpointWeightsAndCapacities' weights: the next invocations are drawn by them; the new specs."""
        with self._condition:
            for variant in self.variants:
                if variant.spec.name in weights:
                    variant.spec = dataclasses.replace(variant.spec, weight=weights[variant.spec.name])
            return [variant.spec for variant in self.variants]

    def stop(self) -> None:
        """DeleteEndpoint, or the endpoint's own stop: every process ends, a deployment under way fails."""
        self._stopped.set()
        with self._condition:
            variants = self.variants + self._launching
            self.variants, self._restarting = [], False
            self._condition.notify_all()
        self._retire(variants, drain=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- invocations ---------------------------------------------------------------------------
    def invoke(self, body: bytes, headers: dict[str, str], target_variant: str | None,
               model_error: Callable[[int, str], ModelFailure]) -> Invocation:
        """Answer one InvokeEndpoint; InvocationRefused or ModelFailure (from `model_error(status, message)`)."""
        deadline = time.monotonic() + INVOCATION_TIMEOUT_SECONDS
        for _attempt in range(INSTANCE_ATTEMPTS):
            variant, instance = self._acquire(target_variant, deadline, model_error)
            try:
                status, content_type, data = instance.invoke(body, headers, max(0.1, deadline - time.monotonic()))
            except InstanceUnavailable:
                continue  # the process died under the request: another instance (or its replacement) answers
            except TimeoutError:
                raise model_error(0, "") from None
            finally:
                self._release(instance)
            if status >= 400:
                raise model_error(status, data.decode("utf-8", errors="replace"))
            return Invocation(variant.spec.name, content_type, data)
        raise model_error(500, "the model server's process ended while it answered; the instance is being replaced")

    def _acquire(self, target_variant: str | None, deadline: float,
                 model_error: Callable[[int, str], ModelFailure]) -> tuple[Variant, ServerInstance]:
        with self._condition:
            while True:
                variants = self.variants
                if not variants and (self._launching or self._restarting):  # restarted: its servers start again
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise model_error(0, "")  # not started in time: as a model that does not answer
                    self._condition.wait(min(remaining, 1.0))
                    continue
                if target_variant:
                    chosen = [variant for variant in variants if variant.spec.name == target_variant]
                    if not chosen:
                        raise InvocationRefused(
                            f"The variant {target_variant} does not exist on endpoint {self.endpoint_name}: it has "
                            f"{', '.join(variant.spec.name for variant in variants) or 'none'}")
                    variant = chosen[0]
                elif variants:
                    weights = [variant.spec.weight for variant in variants]
                    variant = random.choices(variants, weights=weights if any(weights) else None)[0]
                else:
                    why = f": its model servers did not start ({self._launch_failure})" if self._launch_failure else ""
                    raise InvocationRefused(f"Endpoint {self.endpoint_name} has no variant serving{why}")
                ready = [instance for instance in variant.instances if instance.ready]
                if ready:
                    instance = min(ready, key=lambda candidate: candidate.in_flight)
                    instance.in_flight += 1
                    return variant, instance
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise model_error(0, "")
                self._condition.wait(min(remaining, 1.0))

    def _release(self, instance: ServerInstance) -> None:
        with self._condition:
            instance.in_flight -= 1
            self._condition.notify_all()

    def _changed(self) -> None:
        with self._condition:
            self._condition.notify_all()

    # --- what DescribeEndpoint and the logs show -------------------------------------------------
    def instances(self) -> list[ServerInstance]:
        with self._condition:
            return [instance for variant in self.variants + self._launching for instance in variant.instances]

    def ready_counts(self) -> dict[str, int]:
        with self._condition:
            return {variant.spec.name: variant.ready_count() for variant in self.variants}

    def _flush_logs(self) -> None:
        """Lines a quiet server printed reach CloudWatch within a second (the stream sends in batches)."""
        while not self._stopped.wait(LOG_FLUSH_SECONDS):
            for instance in self.instances():
                instance.flush_logs()


def spec_from_saved(saved: dict[str, Any]) -> VariantSpec:
    """A VariantSpec from its saved form (dataclasses.asdict)."""
    return VariantSpec(**{**saved, "container": ServingContainer(**saved["container"])})
