# Keep Terraform state in a versioned Cloud Storage bucket (state locking is
# built in). coder-gen copies this file into terraform/gcp/.
terraform {
  backend "gcs" {
    bucket = "wayne-terraform-state"
    prefix = "coder"
  }
}
