"""Sends the STS documented examples (tests/sdk/examples.json) with boto3, with the values as
printed, to a conform server, and reports per step what boto3 returned or raised. The Rust
test (tests/sdk_boto3.rs) judges the report; this script only drives the SDK.

Usage: boto3_examples.py ENDPOINT EXAMPLES_JSON REPORT_JSON
The client's own keys come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.

Client-side validation is off (Config(parameter_validation=False)), so what the service says
about a value (a one-character session name) comes back as the service's error."""
import json
import os
import sys

import boto3
import botocore.exceptions
from botocore import UNSIGNED, xform_name
from botocore.config import Config

REGION = "us-east-1"


def client(endpoint, creds):
    """An STS client with these credentials (None: unsigned) and a log of the Authorization
    header each request went with."""
    config = Config(parameter_validation=False, retries={"total_max_attempts": 1})
    keys = {}
    if creds is None:
        config = config.merge(Config(signature_version=UNSIGNED))
    else:
        keys = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds.get("SessionToken"),
        }
    sts = boto3.session.Session().client(
        "sts", endpoint_url=endpoint, region_name=REGION, config=config, **keys
    )
    sent = []

    def before_send(request, **_):
        sent.append(request.headers.get("Authorization"))

    sts.meta.events.register("before-send.sts", before_send)
    return sts, sent


def key_of(authorization):
    if authorization is None:
        return ""
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    return authorization.split("Credential=", 1)[-1].split("/", 1)[0]


def run_step(endpoint, own, previous, step):
    """(answer, key, credentials returned)"""
    creds = step.get("creds")
    if creds == "previous" and previous is None:
        return {"outcome": "skipped", "detail": "the previous step returned no credentials"}, None, None
    sts, sent = client(endpoint, None if creds == "unsigned" else previous if creds == "previous" else own)
    try:
        result = getattr(sts, xform_name(step["op"]))(**step["params"])
    except botocore.exceptions.ClientError as e:
        code = e.response.get("Error", {}).get("Code")
        if not code:
            answer = {"outcome": "broken", "detail": f"a ClientError without a code: {e}"}
        else:
            cls = sts.exceptions.from_code(code)
            answer = {
                "outcome": "error",
                "code": code,
                "typed": isinstance(e, cls),
                "what": f"{type(e).__name__}: {e}",
            }
        return answer, key_of(sent[-1]) if sent else None, None
    except botocore.exceptions.ParamValidationError as e:
        return {"outcome": "broken", "detail": f"boto3 refused to send it: {e}"}, None, None
    except Exception as e:  # noqa: BLE001: whatever else boto3 raised is the finding
        return {"outcome": "broken", "detail": f"{type(e).__name__}: {e}"[:2000]}, key_of(sent[-1]) if sent else None, None
    returned = result.get("Credentials")
    answer = {
        "outcome": "ok",
        "arn": (result.get("AssumedRoleUser") or {}).get("Arn") or result.get("Arn"),
        "account": result.get("Account"),
        "access_key_id": returned.get("AccessKeyId") if returned else None,
    }
    return answer, key_of(sent[-1]) if sent else None, returned


def main():
    endpoint, examples_path, report_path = sys.argv[1:4]
    own = {"AccessKeyId": os.environ["AWS_ACCESS_KEY_ID"], "SecretAccessKey": os.environ["AWS_SECRET_ACCESS_KEY"]}
    with open(examples_path) as f:
        examples = json.load(f)["examples"]
    report = []
    for example in examples:
        previous = None
        for i, step in enumerate(example["steps"]):
            answer, key, previous = run_step(endpoint, own, previous, step)
            record = {"example": example["id"], "step": i, "answer": answer}
            if key is not None:
                record["key"] = key
            report.append(record)
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
