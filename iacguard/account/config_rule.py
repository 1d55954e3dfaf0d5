# The AWS Config custom rule's Lambda (AWS130IAM13), shipped inline by `iacguard export conformance-pack`.
# Only the Lambda runtime's boto3 and the standard library; kept under the 4 KB limit of inline code.
import datetime

import boto3


def count_active_keys(iam):
    """(user id, user name, active keys) of every IAM user, every page."""
    out = []
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            active = 0
            for keys in iam.get_paginator("list_access_keys").paginate(UserName=user["UserName"]):
                active += sum(k["Status"] == "Active" for k in keys["AccessKeyMetadata"])
            out.append((user["UserId"], user["UserName"], active))
    return out


def evaluations(counts, now):
    return [{
        "ComplianceResourceType": "AWS::IAM::User",
        "ComplianceResourceId": user_id,
        "ComplianceType": "NON_COMPLIANT" if active > 1 else "COMPLIANT",
        "Annotation": f"{name} has {active} active access keys (CIS AWS 1.13 allows one)"[:255],
        "OrderingTimestamp": now,
    } for user_id, name, active in counts]


def lambda_handler(event, context):
    now = datetime.datetime.now(datetime.UTC)
    results = evaluations(count_active_keys(boto3.client("iam")), now)
    token = event["resultToken"]
    config = boto3.client("config")
    for start in range(0, len(results), 100):  # PutEvaluations takes at most 100 at a time
        config.put_evaluations(Evaluations=results[start:start + 100], ResultToken=token,
                               TestMode=token == "TESTMODE")
    return [(r["ComplianceResourceId"], r["ComplianceType"]) for r in results]
