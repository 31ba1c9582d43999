# An AKS cluster with its resource group and default node pool, for the
# AKS-Azure-TFM blueprint.

locals {
  resource_group_name = var.resource_group_name != "" ? var.resource_group_name : "${var.name_prefix}-rg"
}

resource "azurerm_resource_group" "this" {
  name     = local.resource_group_name
  location = var.location
  tags     = var.tags
}

resource "azurerm_kubernetes_cluster" "this" {
  name                = "${var.name_prefix}-aks"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  dns_prefix          = var.name_prefix
  kubernetes_version  = var.kubernetes_version != "" ? var.kubernetes_version : null
  tags                = var.tags

  default_node_pool {
    name       = "default"
    node_count = var.node_count
    vm_size    = var.vm_size
    # Lets a change of vm_size rotate the pool instead of replacing the cluster.
    temporary_name_for_rotation = "rotation"

    # AKS fills in max_surge when Terraform leaves it out, and every later
    # plan would then show a change to take it away again
    # (hashicorp/terraform-provider-azurerm#24020): declare it.
    upgrade_settings {
      max_surge = var.node_pool_max_surge
    }
  }

  identity {
    type = "SystemAssigned"
  }
}
