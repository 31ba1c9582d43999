variable "name_prefix" {
  type        = string
  description = "Prefix of every name: <prefix>-rg, <prefix>-aks; also the cluster's DNS prefix."
  default     = "chaosops"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix: use 3 to 32 lower-case letters, digits and dashes, starting with a letter, e.g. chaosops-demo."
  }
}

variable "location" {
  type        = string
  description = "Azure region of the resource group and the cluster, e.g. westeurope."
  default     = "westeurope"
}

variable "resource_group_name" {
  type        = string
  description = "Name of the resource group to create; empty means <name_prefix>-rg."
  default     = ""
}

variable "kubernetes_version" {
  type        = string
  description = "Kubernetes version of the cluster, e.g. 1.33; empty means AKS's default version."
  default     = ""
}

variable "node_count" {
  type        = number
  description = "Number of nodes of the default node pool."
  default     = 2

  validation {
    condition     = var.node_count >= 1 && var.node_count <= 100 && floor(var.node_count) == var.node_count
    error_message = "node_count: use a whole number from 1 to 100."
  }
}

variable "vm_size" {
  type        = string
  description = "VM size of the default node pool's nodes, e.g. Standard_D2s_v3."
  default     = "Standard_D2s_v3"
}

variable "tags" {
  type        = map(string)
  description = "Tags put on the resource group and the cluster."
  default     = { "managed-by" = "chaosops" }
}

variable "node_pool_max_surge" {
  type        = string
  description = "How many extra nodes an upgrade of the default node pool may add at a time: a count (\"1\") or a percentage (\"10%\", AKS's own default)."
  default     = "10%"

  validation {
    condition     = can(regex("^([1-9][0-9]*|[1-9][0-9]?%|100%)$", var.node_pool_max_surge))
    error_message = "node_pool_max_surge: use a whole number of nodes such as 1, or a percentage from 1% to 100% such as 10%."
  }
}

variable "resource_providers_to_register" {
  type        = list(string)
  description = "Azure resource providers the azurerm provider registers in addition to the set ARM_RESOURCE_PROVIDER_REGISTRATIONS names; [] registers nothing more (then register Microsoft.ContainerService beforehand: az provider register -n Microsoft.ContainerService)."
  default     = ["Microsoft.ContainerService"]
}
