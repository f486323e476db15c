"""Give the local endpoint what the DAG expects to find: sample partitions and the SNS topic.

`python -m devtools.local_airflow.seed_local_stack --endpoint-url URL [--days 14]` seeds the
last `days` daily partitions (up to yesterday, UTC) of every example pipeline into the bucket, and creates the
notification topic with an SQS queue subscribed, so that the run reports can be read back. A pipeline
that declares [events] gets its queue, and the bucket notifies it of every object created under the
pipeline's data prefix (set after the seeding: the seeded days announce nothing).
Idempotent: running it again rewrites the same partitions and finds the same topic and queue.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.local_airflow.environment import BUCKET, REGION

TOPIC_NAME = QUEUE_NAME = "ml-pipeline-notifications"


def topic_with_queue(sns: Any, sqs: Any) -> tuple[str, str]:
    """(topic ARN, queue URL), the queue subscribed to the topic."""
    topic_arn = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscribed = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    if not any(s["Endpoint"] == queue_arn for s in subscribed):
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


def new_data_notifications(s3: Any, sqs: Any, bucket: str, declarations: list[Any]) -> dict[str, str]:
    """Each [events] queue, and the bucket's ObjectCreated notifications for its data prefix sent to it, as
    README "Train when the data lands" sets them up on AWS. Returns the queue URLs by queue name."""
    import json

    urls, configurations = {}, []
    for declaration in declarations:
        if declaration.events is None:
            continue
        url = sqs.create_queue(QueueName=declaration.events.queue)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "TheBucketNotifiesNewData", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": arn,
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}}}]}
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        configurations.append({
            "Id": f"{declaration.key}-new-data", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": f"{declaration.data_prefix}/"}]}}})
        urls[declaration.events.queue] = url
    if configurations:
        s3.put_bucket_notification_configuration(Bucket=bucket,
                                                 NotificationConfiguration={"QueueConfigurations": configurations})
    return urls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.local_airflow.seed_local_stack",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", required=True, help="the local endpoint, e.g. http://127.0.0.1:4566")
    parser.add_argument("--days", type=int, default=14, help="how many days up to yesterday to seed (default 14)")
    options = parser.parse_args(argv)
    if options.days < 1:
        parser.error(f"--days={options.days}: expected at least 1")

    import boto3

    from devtools.sample_data.partitions import declaration, sample_pipelines, seed_partitions

    session = boto3.session.Session(region_name=REGION)
    last = datetime.now(UTC).date() - timedelta(days=1)
    first = last - timedelta(days=options.days - 1)
    s3 = session.client("s3", endpoint_url=options.endpoint_url)
    for pipeline in sample_pipelines():  # every example pipeline's data, under its own prefix
        seed_partitions(s3, BUCKET, first, last, pipeline=pipeline)
        print(f"Seeded s3://{BUCKET}/{declaration(pipeline).data_prefix}/ds={first}/ .. ds={last}/")
    topic_arn, queue_url = topic_with_queue(session.client("sns", endpoint_url=options.endpoint_url),
                                            session.client("sqs", endpoint_url=options.endpoint_url))
    print(f"SNS topic {topic_arn} -> SQS {queue_url}")
    queues = new_data_notifications(s3, session.client("sqs", endpoint_url=options.endpoint_url), BUCKET,
                                    [declaration(pipeline) for pipeline in sample_pipelines()])
    for name, url in queues.items():
        print(f"New objects in s3://{BUCKET} -> SQS {name} ({url})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
