"""The stored CustomJob JSON as a domain LaunchSpec, for the scheduler and backends."""

from __future__ import annotations

import functools

from google.protobuf import json_format

from customjobs.domain.machines import accelerators_of
from customjobs.domain.spec import DEFAULT_TIMEOUT_S, LaunchSpec, PoolSpec, PythonPackage
from customjobs.wire.messages import types_for

# Parsed launch specs by their stored text. A scheduler reading a long queue after a restart
# parses every waiting job's spec, and sweeps submit thousands of jobs with the same text:
# parsing each distinct text once took most of that pass. LaunchSpec is frozen (its job_spec
# dict is only ever serialised into TF_CONFIG), so one instance may serve every job.
LAUNCH_SPEC_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=LAUNCH_SPEC_CACHE_SIZE)
def launch_spec(spec_json: str) -> LaunchSpec:
    # v1beta1 is a superset of what execution reads, so v1 parses either version's JSON.
    job = types_for("v1").custom_job()
    json_format.Parse(spec_json, job, ignore_unknown_fields=True)
    spec = job.job_spec
    pools = []
    for index, pool in enumerate(spec.worker_pool_specs):
        if not pool.ListFields():
            continue
        machine = pool.machine_spec
        accelerator = machine.DESCRIPTOR.fields_by_name["accelerator_type"].enum_type
        asked = (
            accelerator.values_by_number[machine.accelerator_type].name if machine.accelerator_type else ""
        )
        # A TPU VM type holds its chips though the spec names none: every consumer of the
        # launch spec (capacity, Ray bundles) sees them as if the spec had asked.
        held = accelerators_of(machine.machine_type, asked, machine.accelerator_count)
        package = None
        if pool.HasField("python_package_spec"):
            pps = pool.python_package_spec
            package = PythonPackage(pps.executor_image_uri, tuple(pps.package_uris), pps.python_module)
            task_args, task_env, image, command = pps.args, pps.env, pps.executor_image_uri, ()
        else:
            cs = pool.container_spec
            task_args, task_env, image, command = cs.args, cs.env, cs.image_uri, tuple(cs.command)
        pools.append(
            PoolSpec(
                index=index,
                replica_count=pool.replica_count or 1,
                machine_type=machine.machine_type,
                image_uri=image,
                command=command,
                args=tuple(task_args),
                env=tuple((e.name, e.value) for e in task_env),
                accelerator_type=held[0] if held else "",
                accelerator_count=held[1] if held else 0,
                python_package=package,
            )
        )
    timeout_s = DEFAULT_TIMEOUT_S
    if spec.scheduling.HasField("timeout"):
        timeout_s = spec.scheduling.timeout.ToNanoseconds() / 1e9
    max_wait_s = None
    if spec.scheduling.HasField("max_wait_duration"):
        max_wait_s = spec.scheduling.max_wait_duration.ToNanoseconds() / 1e9 or None
    base = spec.base_output_directory.output_uri_prefix or None
    return LaunchSpec(
        pools=tuple(pools),
        timeout_s=timeout_s,
        max_wait_s=max_wait_s,
        base_output_uri=base,
        enable_web_access=spec.enable_web_access,
        enable_dashboard_access=spec.enable_dashboard_access,
        restart_job_on_worker_restart=spec.scheduling.restart_job_on_worker_restart,
        disable_retries=spec.scheduling.disable_retries,
        job_spec=json_format.MessageToDict(spec, preserving_proto_field_name=True),
    )
