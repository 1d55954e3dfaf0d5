"""`iacguard-cfn-lint`: cfn-lint with iacguard's rules (E9101, W9101), given only CloudFormation files.

cfn-lint treats every file it is given as a template, so a pre-commit hook that hands it every
changed YAML file fails on a Helm chart's `templates/deployment.yaml` or a Kubernetes manifest.
This entry point (the `iacguard-cfn-lint` pre-commit hook) keeps the files that are CloudFormation
(an `AWSTemplateFormatVersion`, or a `Resources` section with an `AWS::` / `Custom::` type, SAM
included) and runs cfn-lint on those, with every option passed through unchanged.
"""

from __future__ import annotations

import re
import sys

SUFFIXES = (".yaml", ".yml", ".json", ".template")
SNIFF_BYTES = 1024 * 1024  # CloudFormation's own template size limit
_VERSION = re.compile(rb"""^\s*["']?AWSTemplateFormatVersion["']?\s*:""", re.M)
_RESOURCES = re.compile(rb"""(^["']?Resources["']?\s*:|"Resources"\s*:)""", re.M)
_TYPE = re.compile(rb"""["']?Type["']?\s*:\s*["']?(AWS|Custom|Alexa)::""")


def is_cloudformation(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return True  # cfn-lint says why it cannot be read
    return bool(_VERSION.search(head)) or bool(_RESOURCES.search(head) and _TYPE.search(head))


def split_arguments(argv: list[str]) -> tuple[list[str], list[str]]:
    """(options for cfn-lint, template files): files are the arguments that name template files."""
    options: list[str] = []
    files: list[str] = []
    for arg in argv:
        (files if not arg.startswith("-") and arg.lower().endswith(SUFFIXES) else options).append(arg)
    return options, files


def main() -> None:
    options, files = split_arguments(sys.argv[1:])
    templates = [f for f in files if is_cloudformation(f)]
    if files and not templates:
        sys.exit(0)  # nothing here is CloudFormation: nothing for cfn-lint to check
    from cfnlint.runner import main as cfn_lint

    sys.argv = ["cfn-lint", "--append-rules=iacguard.cfnlint", *options, *(["--", *templates] if templates else [])]
    cfn_lint()


if __name__ == "__main__":
    main()
