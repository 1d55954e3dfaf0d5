"""Terraform HCL: parse (syntax), evaluate (expressions), instantiate modules (unit)."""
