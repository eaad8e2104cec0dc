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
