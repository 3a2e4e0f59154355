"""Runs a plan of STS calls with boto3 against a conform replay server and reports, per call,
what boto3 parsed or which exception it raised. The Rust test (tests/sdk_boto3.rs) writes the
plan from the scenarios and judges the report; this script only drives the SDK."""
import json
import sys

import boto3
import botocore.exceptions
from botocore.config import Config
from botocore.parsers import ResponseParserError

from parsed import plain


def snake(name):
    out = ""
    for i, c in enumerate(name):
        if c.isupper() and i > 0 and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out += "_"
        out += c.lower()
    return out


def client(endpoint, creds, validate):
    return boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        config=Config(retries={"max_attempts": 1}, parameter_validation=validate),
    )


def main():
    endpoint, plan_path, report_path = sys.argv[1:4]
    plan = json.load(open(plan_path))
    own = {"AccessKeyId": plan["access_key_id"], "SecretAccessKey": plan["secret_access_key"]}
    report = []
    for case in plan["cases"]:
        previous = None
        for step in case["steps"]:
            creds = previous if step["creds"] == "previous" else own
            # A doc example goes as printed, so the service judges its values; other cases
            # keep boto3's own validation (a case it refuses is skipped).
            sts = client(endpoint, creds, validate=case["kind"] != "doc-example")
            entry = {"case": case["name"], "op": step["op"]}
            try:
                result = getattr(sts, snake(step["op"]))(**step["params"])
                entry["result"] = plain(result)
                entry["status"] = result["ResponseMetadata"]["HTTPStatusCode"]
                previous = result.get("Credentials")
            except botocore.exceptions.ParamValidationError as e:
                entry["client_side"] = str(e)
            except ResponseParserError as e:
                entry["unparsable"] = str(e)[:2000]
            except botocore.exceptions.ClientError as e:
                entry["error"] = e.response["Error"]["Code"]
                entry["status"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
                cls = step.get("exception_class")
                entry["typed"] = bool(cls) and isinstance(e, getattr(sts.exceptions, cls))
            report.append(entry)
    json.dump(report, open(report_path, "w"), indent=1)


if __name__ == "__main__":
    main()
