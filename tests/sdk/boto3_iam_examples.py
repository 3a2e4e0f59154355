"""Sends each of IAM's documented examples (models/iam-2010-05-08.examples.json, botocore's
own file) with boto3, its input exactly as the file prints it, to a conform server, and
reports per example what boto3 parsed or raised. The Rust test (tests/sdk_boto3.rs) judges
the report against the examples' outputs; this script only drives the SDK.

Usage: boto3_iam_examples.py ENDPOINT EXAMPLES_JSON REPORT_JSON [CALLS_JSON]
CALLS_JSON: further calls, a list of {"op", "params"}, reported after the examples with
"call": true (the Rust test sends values no case of the corpus sends).
The client's own keys come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.

Client-side validation is off (Config(parameter_validation=False)), as in the STS driver:
what a value is worth is the server's to say."""
import json
import sys

import boto3
import botocore.exceptions
from botocore import xform_name
from botocore.config import Config

from parsed import plain

REGION = "us-east-1"


def main():
    endpoint, examples_path, report_path = sys.argv[1:4]
    with open(examples_path) as f:
        examples = json.load(f)["examples"]
    config = Config(parameter_validation=False, retries={"total_max_attempts": 1})
    iam = boto3.session.Session().client("iam", endpoint_url=endpoint, region_name=REGION, config=config)
    report = []
    for op, listed in examples.items():
        for example in listed:
            record = {"op": op, "id": example.get("id"), "title": example.get("title")}
            try:
                result = getattr(iam, xform_name(op))(**(example.get("input") or {}))
                record.update(outcome="ok", result=plain(result))
            except botocore.exceptions.ClientError as e:
                error = e.response.get("Error", {})
                record.update(outcome="error", code=error.get("Code"), message=error.get("Message"))
            except Exception as e:  # noqa: BLE001: whatever else boto3 raised is the finding
                record.update(outcome="broken", detail=f"{type(e).__name__}: {e}"[:2000])
            report.append(record)
    calls = []
    if len(sys.argv) > 4:
        with open(sys.argv[4]) as f:
            calls = json.load(f)
    for call in calls:
        record = {"op": call["op"], "call": True}
        try:
            result = getattr(iam, xform_name(call["op"]))(**call["params"])
            record.update(outcome="ok", result=plain(result))
        except botocore.exceptions.ClientError as e:
            error = e.response.get("Error", {})
            record.update(outcome="error", code=error.get("Code"), message=error.get("Message"))
        except Exception as e:  # noqa: BLE001
            record.update(outcome="broken", detail=f"{type(e).__name__}: {e}"[:2000])
        report.append(record)
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
