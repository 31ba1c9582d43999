output "kubeconfig" {
  value = "/dev/null"
}
