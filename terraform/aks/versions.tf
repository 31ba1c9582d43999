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
#
# Resource-provider registration: by default (legacy) the provider checks,
# and tries to register, dozens of Azure resource providers before every
# plan, which a service principal with a narrow role cannot do. The
# blueprint sets ARM_RESOURCE_PROVIDER_REGISTRATIONS (core by default) and
# this list adds what an AKS cluster needs on top of it.
provider "azurerm" {
  features {}
  resource_providers_to_register = var.resource_providers_to_register
}
