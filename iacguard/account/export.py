"""`iacguard export`: the service-wide guardrails of AWS130IAM13 as files to deploy.

- A conformance pack holds only Config rules and remediations, so the custom rule's Lambda is a
  CloudFormation stack of its own (deploy it first, then the pack with its ARN): the function's code is
  inline (config_rule.py, the runtime's boto3 only).
- An SCP that lets only named principals call iam:CreateAccessKey.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import yaml

RULE_NAME = "iacguard-aws130iam13-one-active-access-key"
INLINE_LIMIT = 4096  # CloudFormation's limit on AWS::Lambda::Function Code.ZipFile
FREQUENCIES = ("One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours")


def handler_source() -> str:
    return files("iacguard.account").joinpath("config_rule.py").read_text(encoding="utf-8")


def lambda_template() -> dict[str, Any]:
    code = handler_source()
    if len(code) > INLINE_LIMIT:  # a change that makes the inline code too long must not ship
        raise ValueError(f"config_rule.py is {len(code)} characters; inline Lambda code takes {INLINE_LIMIT}")
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "iacguard AWS130IAM13: the Lambda of the AWS Config rule 'at most one active access key "
                       "per IAM user' (deploy before the conformance pack)",
        "Resources": {
            "RuleRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole"}]},
                    "ManagedPolicyArns": [
                        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}],
                    "Policies": [{"PolicyName": "read-keys-put-evaluations", "PolicyDocument": {
                        "Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Action": ["iam:ListUsers", "iam:ListAccessKeys"], "Resource": "*"},
                            {"Effect": "Allow", "Action": "config:PutEvaluations", "Resource": "*"}]}}],
                },
            },
            "RuleFunction": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Description": "AWS130IAM13: NON_COMPLIANT for each IAM user with more than one active key",
                    "Runtime": "python3.12",
                    "Handler": "index.lambda_handler",
                    "Timeout": 900,
                    "MemorySize": 256,
                    "Role": {"Fn::GetAtt": ["RuleRole", "Arn"]},
                    "Code": {"ZipFile": code},
                },
            },
            "ConfigInvokePermission": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": {"Fn::GetAtt": ["RuleFunction", "Arn"]},
                    "Action": "lambda:InvokeFunction",
                    "Principal": "config.amazonaws.com",
                    "SourceAccount": {"Ref": "AWS::AccountId"},
                },
            },
        },
        "Outputs": {"RuleLambdaArn": {"Value": {"Fn::GetAtt": ["RuleFunction", "Arn"]}}},
    }


def conformance_pack(frequency: str = "TwentyFour_Hours") -> dict[str, Any]:
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}")
    return {
        "Parameters": {
            "RuleLambdaArn": {"Type": "String",
                              "Description": "RuleLambdaArn output of the iacguard rule Lambda stack"},
        },
        "Resources": {
            "OneActiveAccessKeyPerUser": {
                "Type": "AWS::Config::ConfigRule",
                "Properties": {
                    "ConfigRuleName": RULE_NAME,
                    "Description": "CIS AWS Foundations 1.13 (iacguard AWS130IAM13): at most one active access "
                                   "key per IAM user",
                    "MaximumExecutionFrequency": frequency,
                    "Source": {
                        "Owner": "CUSTOM_LAMBDA",
                        "SourceIdentifier": {"Ref": "RuleLambdaArn"},
                        "SourceDetails": [{"EventSource": "aws.config", "MessageType": "ScheduledNotification",
                                           "MaximumExecutionFrequency": frequency}],
                    },
                },
            },
        },
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the Lambda's code) as literal blocks, readable in review."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)


def to_yaml(document: dict[str, Any], header: str) -> str:
    return header + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=120, default_flow_style=False)


PACK_HEADER = ("# AWS Config conformance pack (iacguard export conformance-pack): deploy the Lambda stack first, then\n"
               "#   aws configservice put-conformance-pack --conformance-pack-name iam-access-keys \\\n"
               "#     --template-body file://iacguard-pack.yaml \\\n"
               "#     --conformance-pack-input-parameters ParameterName=RuleLambdaArn,ParameterValue=<arn>\n")
LAMBDA_HEADER = ("# The Lambda of the conformance pack's custom rule (iacguard export conformance-pack):\n"
                 "#   aws cloudformation deploy --stack-name iacguard-aws130iam13 --capabilities CAPABILITY_IAM \\\n"
                 "#     --template-file iacguard-rule-lambda.yaml\n")


def scp(allowed_principals: list[str]) -> dict[str, Any]:
    """Deny iam:CreateAccessKey to everyone but these principal ARNs (wildcards allowed, e.g. a role path)."""
    if not allowed_principals:
        raise ValueError("name at least one principal that may still create access keys (--allow ARN)")
    for arn in allowed_principals:
        if not arn.startswith("arn:") or any(c in arn for c in "\"\\\n\r\t "):
            raise ValueError(f"not a principal ARN: {arn!r}")
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "OnlyNamedPrincipalsCreateAccessKeys",
            "Effect": "Deny",
            "Action": "iam:CreateAccessKey",
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": allowed_principals}},
        }],
    }


def scp_json(allowed_principals: list[str]) -> str:
    return json.dumps(scp(allowed_principals), indent=2) + "\n"
