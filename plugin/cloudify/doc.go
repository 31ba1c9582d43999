// Package cloudify speaks Cloudify's side of the script plugin protocol, as
// specified in shared/cloudify-compat.md: operation inputs arrive as
// environment variables (section 1.3) and everything else goes through the
// ctx proxy at CTX_SOCKET_URL (section 2). It knows nothing about chaos,
// Kubernetes or Terraform.
package cloudify
