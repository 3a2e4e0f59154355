// Sends the STS documented examples (tests/sdk/examples.json) with the JavaScript SDK v3
// STSClient, with the values as printed, to a conform server, and reports per step what the
// SDK returned or threw. The Rust test (tests/sdk_js.rs) judges the report; this script only
// drives the SDK.
//
// Usage: node js_examples.cjs SDK_DIR ENDPOINT EXAMPLES_JSON REPORT_JSON
// SDK_DIR is where scripts/sdk-node.sh installed @aws-sdk/client-sts (target/sdk-node). The
// client's own keys come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
//
// The v3 SDK validates no parameter value on the client, so nothing needs turning off. An
// "unsigned" step is sent by a client that holds the own keys: the SDK must leave it unsigned
// by itself (the model marks AssumeRoleWithWebIdentity as needing no auth), and the
// Authorization header it sent, if any, is reported.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");

const [sdkDir, endpoint, examplesPath, reportPath] = process.argv.slice(2);
const sts = createRequire(path.join(path.resolve(sdkDir), "package.json"))("@aws-sdk/client-sts");

const REGION = "us-east-1";

function keyOf(authorization) {
  if (authorization === undefined) return "";
  const m = /Credential=([^/]+)\//.exec(authorization);
  return m ? m[1] : "(an Authorization header without a credential)";
}

// The modelled exception class for an AWS error code, when the SDK has one: the classes
// the SDK exports carry the code as their schema's awsQueryError.
function modelledClass(code) {
  for (const [name, value] of Object.entries(sts)) {
    if (typeof value !== "function" || !name.endsWith("Exception") || name === "STSServiceException") continue;
    const schema = sts[`${name}$`];
    const text = JSON.stringify(schema ?? null);
    if (text.includes(`"${code}"`) || name === `${code}Exception` || name === code) return value;
  }
  return undefined;
}

function client(credentials) {
  const c = new sts.STSClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
  const sent = [];
  // The deserialize step runs after finalizeRequest (signing): this sees the request as sent.
  c.middlewareStack.add(
    (next) => async (args) => {
      sent.push(args.request?.headers?.authorization ?? args.request?.headers?.Authorization);
      return next(args);
    },
    { step: "deserialize", name: "conformSeesTheRequest", priority: "low" },
  );
  return { c, sent };
}

async function runStep(own, previous, step) {
  if (step.creds === "previous" && !previous) {
    return { answer: { outcome: "skipped", detail: "the previous step returned no credentials" } };
  }
  const creds = step.creds === "previous" ? previous : own;
  const Command = sts[`${step.op}Command`];
  if (!Command) return { answer: { outcome: "broken", detail: `the SDK has no ${step.op}Command` } };
  const { c, sent } = client({
    accessKeyId: creds.AccessKeyId,
    secretAccessKey: creds.SecretAccessKey,
    sessionToken: creds.SessionToken,
  });
  const key = () => (sent.length ? keyOf(sent[sent.length - 1]) : undefined);
  try {
    const out = await c.send(new Command(structuredClone(step.params)));
    return {
      answer: {
        outcome: "ok",
        arn: out.AssumedRoleUser?.Arn ?? out.Arn ?? null,
        account: out.Account ?? null,
        access_key_id: out.Credentials?.AccessKeyId ?? null,
      },
      key: key(),
      returned: out.Credentials,
    };
  } catch (e) {
    const status = e?.$metadata?.httpStatusCode;
    if (!(e instanceof sts.STSServiceException) || e.$fault === undefined || !status) {
      return { answer: { outcome: "broken", detail: `${e?.name}: ${e?.message}`.slice(0, 2000) }, key: key() };
    }
    // A modelled error's name is its shape's (MalformedPolicyDocumentException); the AWS
    // code travels as Code, and is the name of an error the model does not have.
    const code = e.Code ?? e.name;
    const cls = modelledClass(code);
    const typed = cls ? e instanceof cls && e.name === cls.name : e.name === code && e.constructor === sts.STSServiceException;
    return {
      answer: {
        outcome: "error",
        code,
        typed,
        what: `${e.constructor.name} name=${e.name} Code=${e.Code} HTTP ${status}: ${e.message}`,
      },
      key: key(),
    };
  }
}

async function main() {
  const own = { AccessKeyId: process.env.AWS_ACCESS_KEY_ID, SecretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
  const { examples } = JSON.parse(fs.readFileSync(examplesPath, "utf8"));
  const report = [];
  for (const example of examples) {
    let previous;
    for (const [i, step] of example.steps.entries()) {
      const { answer, key, returned } = await runStep(own, previous, step);
      previous = returned;
      const record = { example: example.id, step: i, answer };
      if (key !== undefined) record.key = key;
      report.push(record);
    }
  }
  fs.writeFileSync(reportPath, JSON.stringify(report, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
