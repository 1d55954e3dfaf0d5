"""The live account side of AWS130IAM13: read keys (client, report), judge them (audit), merge them into a scan
(merge), deactivate the surplus (remediate), and write the service-wide guardrails (export).

Only this package imports boto3, and only when an account command runs: the `aws` extra of iacguard-lint adds it.
"""
