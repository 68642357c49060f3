"""Create the photo bucket on the S3-compatible store if it does not exist yet.

Run once before the app starts (the `createbucket` service in docker-compose.yml). Reads
the same variables as the app: AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL,
AWS_S3_REGION_NAME, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Safe to run again.
"""

import os
import sys
import time

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError

ATTEMPTS = 30


def main() -> int:
    bucket = os.environ["AWS_STORAGE_BUCKET_NAME"]
    region = os.environ.get("AWS_S3_REGION_NAME") or "us-east-1"
    s3 = boto3.client(
        "s3", endpoint_url=os.environ.get("AWS_S3_ENDPOINT_URL") or None, region_name=region
    )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            s3.head_bucket(Bucket=bucket)
            print(f"bucket {bucket} exists")
            return 0
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code not in ("404", "NoSuchBucket", "NotFound"):
                raise
            extra = {}
            if region != "us-east-1":
                extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(Bucket=bucket, **extra)
            print(f"bucket {bucket} created")
            return 0
        except EndpointConnectionError:
            print(f"object store not reachable yet (attempt {attempt}/{ATTEMPTS})")
            time.sleep(2)
    print("object store never became reachable", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
