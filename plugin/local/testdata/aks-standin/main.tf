# STAND-IN for terraform/aks's main.tf and outputs.tf, for the local runner's
# test of AKS-Azure-TFM (Azure cannot be reached here). The test puts the real
# module's variables.tf beside it, so the inputs are checked as the real
# module checks them; the "cluster" is a terraform_data resource and the
# outputs have the real module's names and sensitivity.
locals {
  cluster_name        = "${var.name_prefix}-aks"
  resource_group_name = var.resource_group_name != "" ? var.resource_group_name : "${var.name_prefix}-rg"
}

resource "terraform_data" "cluster" {
  input = {
    name      = local.cluster_name
    location  = var.location
    nodes     = var.node_count
    vm_size   = var.vm_size
    max_surge = var.node_pool_max_surge
    providers = var.resource_providers_to_register
  }
}

output "host" {
  value = "https://${terraform_data.cluster.output.name}.hcp.${var.location}.azmk8s.io:443"
}

output "cluster_ca_certificate" {
  value = "-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n"
}

output "kubeconfig" {
  value     = "apiVersion: v1\nkind: Config\nclusters: [{name: ${local.cluster_name}, cluster: {server: 'https://${local.cluster_name}.hcp.${var.location}.azmk8s.io:443'}}]\n"
  sensitive = true
}

output "token" {
  value     = "stand-in-token"
  sensitive = true
}

output "client_certificate" {
  value     = ""
  sensitive = true
}

output "client_key" {
  value     = ""
  sensitive = true
}

output "cluster_name" {
  value = terraform_data.cluster.output.name
}

output "resource_group_name" {
  value = local.resource_group_name
}

output "kubernetes_version" {
  value = var.kubernetes_version != "" ? var.kubernetes_version : "1.33"
}
