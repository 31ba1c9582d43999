variable "name" {
  type        = string
  description = "Recorded by terraform_data.greeting."
  default     = "chaos"
}

variable "replicas" {
  type        = number
  description = "How many terraform_data.replica instances to keep."
  default     = 1
}

variable "secret" {
  type        = string
  description = "A credential; it reaches only the sensitive output token."
  sensitive   = true
}
