terraform {
  required_version = ">= 1.5.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "= 4.48.0"
    }
  }
}

# Credentials come from the environment of the terraform process, never
# from variables: ARM_SUBSCRIPTION_ID, ARM_TENANT_ID, ARM_CLIENT_ID and
# ARM_CLIENT_SECRET (a service principal).
provider "azurerm" {
  features {}
}
