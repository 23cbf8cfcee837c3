"""List through the official client: paging over 250 jobs, every filter form, read masks, bad input."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from google.api_core import exceptions
from google.cloud import aiplatform_v1 as av1
from google.protobuf import field_mask_pb2

from e2e.vertex import PARENT, job, pool, rest_client, wait_for
from support.server import ServerProcess


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> av1.JobServiceClient:
    return rest_client(server.url)


def names_of(jobs: Iterator[av1.CustomJob]) -> list[str]:
    return [j.display_name for j in jobs]


def test_250_jobs_page_by_100_each_exactly_once_newest_first(server: ServerProcess) -> None:
    client = rest_client(server.url)
    parent = "projects/paging/locations/us-central1"
    created = [
        client.create_custom_job(parent=parent, custom_job=job(f"page-{i:03d}", pool(["true"]))).name
        for i in range(250)
    ]
    pager = client.list_custom_jobs(request={"parent": parent, "page_size": 100})
    pages = [list(page.custom_jobs) for page in pager.pages]
    assert [len(p) for p in pages] == [100, 100, 50]
    listed = [j.name for page in pages for j in page]
    assert listed == list(reversed(created))
    times = [j.create_time for page in pages for j in page]
    assert times == sorted(times, reverse=True)


@pytest.fixture(scope="module")
def corpus(client: av1.JobServiceClient) -> dict[str, av1.CustomJob]:
    """Jobs in three end states with names and labels to filter on, created in this order."""
    parent_jobs: dict[str, av1.CustomJob] = {}
    specs = [
        ("my_job_alpha", ["true"], {"team": "ml", "tier": "gold"}),
        ("my_job_beta", ["false"], {"team": "ml"}),
        ("other", ["true"], {"team": "infra"}),
        ("my_job", ["sleep", "600"], {}),
    ]
    for name, command, labels in specs:
        parent_jobs[name] = client.create_custom_job(
            parent=PARENT.replace("test-project", "filters"),
            custom_job=job(name, pool(command), labels=labels),
        )
        time.sleep(0.01)
    client.cancel_custom_job(name=parent_jobs["my_job"].name)
    return {n: wait_for(client, j.name) for n, j in parent_jobs.items()}


FILTERS = [
    ('display_name="my_job"', {"my_job"}),
    ('displayName="other"', {"other"}),
    ('display_name!="my_job"', {"my_job_alpha", "my_job_beta", "other"}),
    ('display_name:"my_job_*"', {"my_job_alpha", "my_job_beta"}),
    ('display_name="my_job_*"', {"my_job_alpha", "my_job_beta"}),
    ('display_name:"job"', {"my_job_alpha", "my_job_beta", "my_job"}),
    ('display_name="*a"', {"my_job_alpha", "my_job_beta"}),
    ("state=JOB_STATE_SUCCEEDED", {"my_job_alpha", "other"}),
    ('state="JOB_STATE_FAILED"', {"my_job_beta"}),
    ('state!="JOB_STATE_SUCCEEDED"', {"my_job_beta", "my_job"}),
    ("labels.team=ml", {"my_job_alpha", "my_job_beta"}),
    ('labels.team="infra"', {"other"}),
    ("labels.tier:*", {"my_job_alpha"}),
    ("labels.team!=ml", {"other", "my_job"}),
    ('state="JOB_STATE_SUCCEEDED" AND display_name:"my_job_*"', {"my_job_alpha"}),
    ('state!="JOB_STATE_FAILED" OR display_name="my_job"', {"my_job_alpha", "other", "my_job"}),
    ('NOT display_name="my_job"', {"my_job_alpha", "my_job_beta", "other"}),
    ('-display_name="my_job"', {"my_job_alpha", "my_job_beta", "other"}),
    ("labels.team=ml state=JOB_STATE_FAILED", {"my_job_beta"}),
    # OR binds tighter than AND: a AND (b OR c).
    ('labels.team=ml AND state=JOB_STATE_FAILED OR display_name="other"', {"my_job_beta"}),
    ('(labels.team=ml AND state=JOB_STATE_FAILED) OR display_name="other"', {"my_job_beta", "other"}),
    ('NOT (labels.team=ml OR display_name="other")', {"my_job"}),
]


@pytest.mark.parametrize(("filter_text", "expected"), FILTERS, ids=[f for f, _ in FILTERS])
def test_filter(
    client: av1.JobServiceClient, corpus: dict[str, av1.CustomJob], filter_text: str, expected: set[str]
) -> None:
    parent = PARENT.replace("test-project", "filters")
    found = names_of(client.list_custom_jobs(request={"parent": parent, "filter": filter_text}))
    assert sorted(found) == sorted(expected)


def test_create_time_comparisons(client: av1.JobServiceClient, corpus: dict[str, av1.CustomJob]) -> None:
    parent = PARENT.replace("test-project", "filters")
    pivot = corpus["other"].create_time
    stamp = pivot.isoformat().replace("+00:00", "Z")
    expectations = {
        f'create_time="{stamp}"': {"other"},
        f'create_time!="{stamp}"': {"my_job_alpha", "my_job_beta", "my_job"},
        f'create_time>"{stamp}"': {"my_job"},
        f'create_time>="{stamp}"': {"other", "my_job"},
        f'create_time<"{stamp}"': {"my_job_alpha", "my_job_beta"},
        f'createTime<="{stamp}"': {"my_job_alpha", "my_job_beta", "other"},
        'create_time>"2021-05-18T00:00:00Z"': {"my_job_alpha", "my_job_beta", "other", "my_job"},
        'create_time<"2021-05-18T00:00:00+05:30"': set(),
    }
    for filter_text, expected in expectations.items():
        found = names_of(client.list_custom_jobs(request={"parent": parent, "filter": filter_text}))
        assert set(found) == expected, filter_text


@pytest.mark.parametrize(
    "bad",
    [
        'display_name="x" AND',
        "nonsense=1",
        "state=JOB_STATE_NOPE",
        'create_time>"yesterday"',
        "display_name<3",
    ],
)
def test_bad_filter_is_invalid_argument(client: av1.JobServiceClient, bad: str) -> None:
    with pytest.raises(exceptions.BadRequest) as info:
        list(client.list_custom_jobs(request={"parent": PARENT, "filter": bad}))
    assert info.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_read_mask_returns_only_the_asked_fields(
    client: av1.JobServiceClient, corpus: dict[str, av1.CustomJob]
) -> None:
    parent = PARENT.replace("test-project", "filters")
    mask = field_mask_pb2.FieldMask(paths=["display_name", "state"])
    jobs = list(client.list_custom_jobs(request={"parent": parent, "read_mask": mask}))
    assert len(jobs) == 4
    for listed in jobs:
        assert listed.display_name and listed.state and listed.name
        assert not listed.job_spec.worker_pool_specs
        assert not listed.labels


def test_page_token_is_bound_to_its_filter(server: ServerProcess, corpus: dict[str, av1.CustomJob]) -> None:
    url = f"{server.url}/v1/{PARENT.replace('test-project', 'filters')}/customJobs"
    first = requests.get(url, params={"pageSize": 1, "filter": "labels.team=ml"}).json()
    assert len(first["customJobs"]) == 1 and first["nextPageToken"]
    second = requests.get(
        url, params={"pageSize": 1, "filter": "labels.team=ml", "pageToken": first["nextPageToken"]}
    )
    assert second.ok and len(second.json()["customJobs"]) == 1
    assert "nextPageToken" not in second.json()
    other = requests.get(url, params={"pageSize": 1, "pageToken": first["nextPageToken"]})
    assert other.status_code == 400 and other.json()["error"]["status"] == "INVALID_ARGUMENT"
    garbage = requests.get(url, params={"pageToken": "not-a-token"})
    assert garbage.status_code == 400
    negative = requests.get(url, params={"pageSize": -1})
    assert negative.status_code == 400


def test_empty_list_is_an_empty_object(server: ServerProcess) -> None:
    response = requests.get(f"{server.url}/v1/projects/nobody/locations/us-central1/customJobs")
    assert response.status_code == 200 and response.json() == {}
