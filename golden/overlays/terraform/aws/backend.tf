# DO NOT EDIT: copied by coder-gen from your terraform/backend.tf; edit that file and run `coder-gen render`.
# sha256 5c67cba5c3da58a9bbf187a19f8ae014199561aeffd0ff534412b2f006215f59
# Keep Terraform state in S3 with locking (Terraform 1.10+), not on a
# laptop. coder-gen copies this file into terraform/aws/.
terraform {
  backend "s3" {
    bucket       = "acme-terraform-state"
    key          = "coder/terraform.tfstate"
    region       = "us-west-2"
    encrypt      = true
    use_lockfile = true
  }
}
