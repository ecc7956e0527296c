"""The CloudFormation templates of ``deploy/aws/`` deployed into moto (server mode) with
``CreateStack``, and the bridge run against what the SQS stack created.

What moto 5.2 does with them, so what these tests can and cannot show:

- SQS stack: moto creates the queues (redrive policy included), the rule on the bus (its
  target's retry policy and DLQ included), the KMS key, the bucket with its default
  encryption, the managed policies, the role and the instance profile. It has no
  CloudFormation support for ``AWS::SQS::QueuePolicy`` and ``AWS::S3::BucketPolicy`` and
  skips them (a warning in its log); it ignores the bucket's public access block,
  ownership controls and lifecycle rules; it enforces no IAM or queue policy. cfn-lint
  checks all of those (``tests/unit/test_deploy_templates.py``).
- The partner event bus is stood in for by a custom bus created first, as associating the
  Genesys event source creates the real one: moto takes a bus name holding ``/``
  (``aws.partner/genesys.com/...``) for an ARN and keeps only its last segment.
- API destination stack: moto has no CloudFormation support for ``AWS::Events::Connection``
  and ``AWS::Events::ApiDestination``, and its API destination target sends neither the
  event nor the key. The test creates those two through the EventBridge API from the
  template's own properties, deploys the rest (role, DLQ, its policy, rule) with their ARNs
  in place, and checks the rule's target; no event is delivered through it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

import aioboto3  # type: ignore[import-untyped]
import pytest
from scripts.infra import MotoServer

from genesys_emulator.event_sinks import send_all
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from tests.deploy_templates import (
    API_DESTINATION_TEMPLATE,
    SQS_TEMPLATE,
    load_template,
    resource_types,
)
from tests.integration.scale.e2e_harness import WorkerFleet, scenario, wait_for, worker_env

pytestmark = pytest.mark.integration

#: resource types moto 5.2 cannot create through CloudFormation (it skips them)
MOTO_SKIPS_SQS_STACK = {"AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy"}
MOTO_SKIPS_API_STACK = {"AWS::Events::Connection", "AWS::Events::ApiDestination"}


async def create_stack(
    moto: MotoServer, name: str, body: str, parameters: dict[str, str]
) -> tuple[dict[str, str], set[str]]:
    """Creates the stack and waits for it: its outputs, and the logical ids moto created."""
    async with aioboto3.Session().client("cloudformation", endpoint_url=moto.endpoint_url) as cf:
        await cf.create_stack(
            StackName=name,
            TemplateBody=body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
        for _ in range(100):
            stack = (await cf.describe_stacks(StackName=name))["Stacks"][0]
            if not stack["StackStatus"].endswith("_IN_PROGRESS"):
                break
            await asyncio.sleep(0.1)
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        summaries = (await cf.list_stack_resources(StackName=name))["StackResourceSummaries"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return outputs, {s["LogicalResourceId"] for s in summaries}


async def queue_depth(moto: MotoServer, url: str) -> int:
    async with aioboto3.Session().client("sqs", endpoint_url=moto.endpoint_url) as sqs:
        attrs = (
            await sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )
        )["Attributes"]
    return sum(int(v) for v in attrs.values())


async def sidecars(moto: MotoServer, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
    """The delivered sidecars by job key."""
    found: dict[str, dict[str, Any]] = {}
    async with aioboto3.Session().client("s3", endpoint_url=moto.endpoint_url) as s3:
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if item["Key"].endswith(".json"):
                    body = (await s3.get_object(Bucket=bucket, Key=item["Key"]))["Body"]
                    record = json.loads(await body.read())
                    found[record["key"]] = record
    return found


async def check_sqs_stack(moto: MotoServer, bus: str, out: dict[str, str]) -> None:
    """What the stack created is wired as the template says (as far as moto keeps it)."""
    session = aioboto3.Session()
    async with (
        session.client("sqs", endpoint_url=moto.endpoint_url) as sqs,
        session.client("events", endpoint_url=moto.endpoint_url) as events,
        session.client("s3", endpoint_url=moto.endpoint_url) as s3,
        session.client("iam", endpoint_url=moto.endpoint_url) as iam,
    ):
        attrs = (await sqs.get_queue_attributes(QueueUrl=out["QueueUrl"], AttributeNames=["All"]))[
            "Attributes"
        ]
        dlq_arn = (
            await sqs.get_queue_attributes(
                QueueUrl=out["DeadLetterQueueUrl"], AttributeNames=["QueueArn"]
            )
        )["Attributes"]["QueueArn"]
        redrive = json.loads(attrs["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq_arn
        assert int(redrive["maxReceiveCount"]) == 10
        assert attrs["VisibilityTimeout"] == "60"

        rule = await events.describe_rule(Name="genesys-to-sqs", EventBusName=bus)
        assert json.loads(rule["EventPattern"]) == {
            "source": [{"prefix": "aws.partner/genesys.com"}]
        }
        [target] = (await events.list_targets_by_rule(Rule="genesys-to-sqs", EventBusName=bus))[
            "Targets"
        ]
        assert target["Arn"] == out["QueueArn"]
        assert target["DeadLetterConfig"]["Arn"].endswith("-rule-dlq")
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400

        encryption = (await s3.get_bucket_encryption(Bucket=out["BucketName"]))[
            "ServerSideEncryptionConfiguration"
        ]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        assert encryption == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": out["KmsKeyArn"]}

        role = out["WorkerRoleArn"].rsplit("/", 1)[1]
        attached = (await iam.list_attached_role_policies(RoleName=role))["AttachedPolicies"]
        assert {p["PolicyArn"] for p in attached} == {
            out["WorkerPolicyArn"],
            out["DeliveryKeyPolicyArn"],
        }
        policy = await iam.get_policy(PolicyArn=out["WorkerPolicyArn"])
        version = await iam.get_policy_version(
            PolicyArn=out["WorkerPolicyArn"], VersionId=policy["Policy"]["DefaultVersionId"]
        )
        document = version["PolicyVersion"]["Document"]
        if isinstance(document, str):
            document = json.loads(document)
        consume = next(s for s in document["Statement"] if s["Sid"] == "ConsumeEvents")
        assert consume["Resource"] == out["QueueArn"]
        assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= set(
            consume["Action"]
        )


@pytest.mark.timeout(180)
async def test_sqs_stack_deploys_and_the_bridge_delivers_voice_notes_to_its_bucket(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    suffix = secrets.token_hex(3)
    bus = f"genesys-partner-{suffix}"  # stands in for aws.partner/genesys.com/cloud/{org}/{suffix}
    async with aioboto3.Session().client("events", endpoint_url=moto_server.endpoint_url) as ev:
        await ev.create_event_bus(Name=bus)
    out, created = await create_stack(
        moto_server,
        f"media-bridge-sqs-{suffix}",
        SQS_TEMPLATE.read_text(),
        {"EventBusName": bus, "QueueName": f"genesys-events-{suffix}"},
    )
    types = resource_types(load_template(SQS_TEMPLATE))
    assert {types[name] for name in set(types) - created} == MOTO_SKIPS_SQS_STACK
    await check_sqs_stack(moto_server, bus, out)

    # The bridge, configured only from the stack's outputs (plus moto's endpoint).
    endpoint = f"endpoint_url={moto_server.endpoint_url}"
    source = f"{out['BridgeSource']}?{endpoint}&wait_seconds=1&visibility_timeout=20"
    sink = f"{out['BridgeMediaSink']}?{endpoint}"
    assert sink.startswith(f"s3://{out['BucketName']}/genesys?")
    with running_emulator(scenario(12, per_conversation=4)) as emu:
        expected = {
            f"attachment:{c.id}:{m.id}:{a.id}": emu.expected_object(a).sha256
            for c, m, a in emu.attachments()
            if a.media_type == "Audio"
        }
        assert expected, "the scenario holds voice notes"
        env = worker_env(emu, tmp_path, f"sqlite:///{tmp_path}/ledger.db", sink)
        env["MEDIA_BRIDGE_FETCH__MEDIA_TYPES"] = '["Audio"]'
        (tmp_path / "logs").mkdir()
        fleet = WorkerFleet(source, env, tmp_path / "logs")
        fleet.start_all(1)
        try:
            delivered: dict[str, dict[str, Any]] = {}

            async def finished() -> bool:
                nonlocal delivered
                delivered = await sidecars(moto_server, out["BucketName"], "genesys/")
                return set(delivered) >= set(expected) and (
                    await queue_depth(moto_server, out["QueueUrl"]) == 0
                )

            bus_url = f"eventbridge://{bus}?{endpoint}&region=us-east-1"
            await send_all([bus_url], scenario_events(emu.state))
            await wait_for(finished, timeout=120, fleet=fleet)  # ~10 s on an idle machine
        finally:
            fleet.stop_all()

    assert set(delivered) == set(expected), "every voice note, nothing else"
    async with aioboto3.Session().client("s3", endpoint_url=moto_server.endpoint_url) as s3:
        for key, record in delivered.items():
            [original] = [f for f in record["files"] if f["role"] == "original"]
            assert original["sha256"] == expected[key]
            bucket, object_key = original["uri"].removeprefix("s3://").split("/", 1)
            assert bucket == out["BucketName"]
            stored = await s3.get_object(Bucket=bucket, Key=object_key)
            assert hashlib.sha256(await stored["Body"].read()).hexdigest() == expected[key]
            # the bucket's default encryption (the bridge sets none of its own here)
            assert stored["ServerSideEncryption"] == "aws:kms"
            assert stored["SSEKMSKeyId"] == out["KmsKeyArn"]
    assert await queue_depth(moto_server, out["DeadLetterQueueUrl"]) == 0
    assert await queue_depth(moto_server, out["RuleDeadLetterQueueUrl"]) == 0


GIVEN_KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize(
    ("parameters", "algorithm", "key", "absent"),
    [
        (
            {"BucketEncryption": "SSE-S3", "ExpirationDays": "0"},
            "AES256",
            None,
            {"DeliveryKey", "DeliveryKeyPolicy"},
        ),
        ({"KmsKeyArn": GIVEN_KEY}, "aws:kms", GIVEN_KEY, {"DeliveryKey"}),
        (
            {"WorkerPrincipalService": "ecs-tasks.amazonaws.com"},
            "aws:kms",
            "created",
            {"WorkerInstanceProfile"},
        ),
    ],
    ids=["sse-s3", "given-key", "ecs"],
)
async def test_sqs_stack_conditions(
    moto_server: MotoServer,
    parameters: dict[str, str],
    algorithm: str,
    key: str | None,
    absent: set[str],
) -> None:
    """Each choice of the template creates what it says and nothing it does not need."""
    suffix = secrets.token_hex(3)
    bus = f"genesys-partner-{suffix}"
    bucket = f"deliveries-{suffix}"
    async with aioboto3.Session().client("events", endpoint_url=moto_server.endpoint_url) as ev:
        await ev.create_event_bus(Name=bus)
    out, created = await create_stack(
        moto_server,
        f"media-bridge-sqs-{suffix}",
        SQS_TEMPLATE.read_text(),
        {"EventBusName": bus, "QueueName": f"q-{suffix}", "BucketName": bucket, **parameters},
    )
    types = resource_types(load_template(SQS_TEMPLATE))
    skipped = {name for name, kind in types.items() if kind in MOTO_SKIPS_SQS_STACK}
    assert set(types) - created - skipped == absent
    assert out["BucketName"] == bucket
    assert out["BridgeMediaSink"] == f"s3://{bucket}/genesys"
    async with aioboto3.Session().client("s3", endpoint_url=moto_server.endpoint_url) as s3:
        encryption = (await s3.get_bucket_encryption(Bucket=bucket))[
            "ServerSideEncryptionConfiguration"
        ]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert encryption["SSEAlgorithm"] == algorithm
    if key is None:
        assert "KmsKeyArn" not in out
        assert "KMSMasterKeyID" not in encryption
    else:
        assert encryption["KMSMasterKeyID"] == out["KmsKeyArn"]
        assert key == "created" or out["KmsKeyArn"] == key


def _resolve_refs(value: Any, parameters: dict[str, str]) -> Any:
    """A template property with ``{"Ref": parameter}`` replaced by its value."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        return {k: _resolve_refs(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_refs(v, parameters) for v in value]
    return value


def _replace_get_att(value: Any, arns: dict[str, str]) -> Any:
    """``{"Fn::GetAtt": [id, "Arn"]}`` of a resource created outside the stack -> its ARN."""
    if isinstance(value, dict):
        get_att = value.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att[0] in arns:
            return arns[get_att[0]]
        return {k: _replace_get_att(v, arns) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_get_att(v, arns) for v in value]
    return value


async def test_api_destination_stack_deploys_what_moto_can(moto_server: MotoServer) -> None:
    suffix = secrets.token_hex(3)
    bus = f"genesys-partner-{suffix}"
    parameters = {
        "EventBusName": bus,
        "RuleName": f"genesys-to-intake-{suffix}",
        "IntakeUrl": "https://bridge.example.com/events",
        "ApiKeyHeader": "x-api-key",
        "ApiKey": secrets.token_urlsafe(24),
        "InvocationRateLimitPerSecond": "20",
        "MaximumRetryAttempts": "185",
        "MaximumEventAgeSeconds": "86400",
    }
    template = load_template(API_DESTINATION_TEMPLATE)
    types = resource_types(template)
    outside = {name for name, kind in types.items() if kind in MOTO_SKIPS_API_STACK}
    assert {types[name] for name in outside} == MOTO_SKIPS_API_STACK
    resources = template["Resources"]
    connection = _resolve_refs(resources["IntakeConnection"]["Properties"], parameters)
    destination = _resolve_refs(resources["IntakeDestination"]["Properties"], parameters)
    async with aioboto3.Session().client("events", endpoint_url=moto_server.endpoint_url) as ev:
        await ev.create_event_bus(Name=bus)
        connection_arn = (await ev.create_connection(Name=f"intake-{suffix}", **connection))[
            "ConnectionArn"
        ]
        destination["ConnectionArn"] = connection_arn
        destination["InvocationRateLimitPerSecond"] = int(
            destination["InvocationRateLimitPerSecond"]
        )
        destination_arn = (await ev.create_api_destination(Name=f"intake-{suffix}", **destination))[
            "ApiDestinationArn"
        ]
        arns = {"IntakeConnection": connection_arn, "IntakeDestination": destination_arn}
        rest = {**template, "Resources": {k: v for k, v in resources.items() if k not in outside}}
        out, _ = await create_stack(
            moto_server,
            f"media-bridge-api-{suffix}",
            json.dumps(_replace_get_att(rest, arns)),
            parameters,
        )
        [target] = (await ev.list_targets_by_rule(Rule=parameters["RuleName"], EventBusName=bus))[
            "Targets"
        ]
        described = await ev.describe_api_destination(Name=f"intake-{suffix}")
    assert target["Arn"] == destination_arn == out["ApiDestinationArn"]
    assert target["RoleArn"].startswith("arn:aws:iam::")
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}
    dlq_url = out["DeadLetterQueueUrl"]
    assert target["DeadLetterConfig"]["Arn"].endswith(dlq_url.rsplit("/", 1)[1])
    assert described["InvocationEndpoint"] == "https://bridge.example.com/events"
    assert described["InvocationRateLimitPerSecond"] == 20
    assert described["HttpMethod"] == "POST"
