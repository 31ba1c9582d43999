output "host" {
  description = "URL of the cluster's API server."
  value       = "https://${azurerm_kubernetes_cluster.this.fqdn}:443"
}

output "cluster_ca_certificate" {
  description = "PEM certificate of the CA that signed the API server's certificate; public, so not sensitive."
  value       = nonsensitive(base64decode(azurerm_kubernetes_cluster.this.kube_config[0].cluster_ca_certificate))
}

output "kubeconfig" {
  description = "Admin kubeconfig of the cluster."
  value       = azurerm_kubernetes_cluster.this.kube_config_raw
  sensitive   = true
}

output "token" {
  description = "Bearer token of the cluster's admin user."
  value       = azurerm_kubernetes_cluster.this.kube_config[0].password
  sensitive   = true
}

output "client_certificate" {
  description = "PEM client certificate of the cluster's admin user."
  value       = base64decode(azurerm_kubernetes_cluster.this.kube_config[0].client_certificate)
  sensitive   = true
}

output "client_key" {
  description = "PEM private key of the client certificate."
  value       = base64decode(azurerm_kubernetes_cluster.this.kube_config[0].client_key)
  sensitive   = true
}

output "cluster_name" {
  description = "Name of the AKS cluster."
  value       = azurerm_kubernetes_cluster.this.name
}

output "resource_group_name" {
  description = "Name of the resource group holding the cluster."
  value       = azurerm_resource_group.this.name
}

output "kubernetes_version" {
  description = "Kubernetes version the cluster runs."
  value       = azurerm_kubernetes_cluster.this.current_kubernetes_version
}
