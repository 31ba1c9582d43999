output "greeting" {
  value = terraform_data.greeting.output
}

output "replica_ids" {
  value = terraform_data.replica[*].id
}

output "settings" {
  value = { name = var.name, replicas = var.replicas }
}

output "token" {
  value     = "token-${var.secret}"
  sensitive = true
}
