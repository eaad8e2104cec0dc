# DO NOT EDIT: copied by coder-gen from your terraform/backend-gcs.tf; edit that file and run `coder-gen render`.
# sha256 1fb99cd1dc0b5746afa135ee0209266b4291024b162f8c827be85ce1cd0ac232
# Keep Terraform state in a versioned Cloud Storage bucket (state locking is
# built in). coder-gen copies this file into terraform/gcp/.
terraform {
  backend "gcs" {
    bucket = "wayne-terraform-state"
    prefix = "coder"
  }
}
