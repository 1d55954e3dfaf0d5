# Key rotation done right: the old key is kept Inactive until it is deleted.
resource "aws_iam_user" "ci" {
  for_each = toset(["build", "release"])
  name     = "ci-${each.key}"
}

resource "aws_iam_access_key" "current" {
  for_each = aws_iam_user.ci
  user     = each.value.name
}

resource "aws_iam_access_key" "previous" {
  user   = aws_iam_user.ci["build"].name
  status = "Inactive"
}
