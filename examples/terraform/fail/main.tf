# A deploy user that gets a second active key "for the backup job": iacguard fails this.
variable "enable_backup_key" {
  type    = bool
  default = true
}

resource "aws_iam_user" "deploy" {
  name = "deploy"
}

resource "aws_iam_access_key" "deploy" {
  user = aws_iam_user.deploy.name
}

resource "aws_iam_access_key" "deploy_backup" {
  count = var.enable_backup_key ? 1 : 0
  user  = aws_iam_user.deploy.id
}
