# A resource whose creation takes var.seconds, to cancel during it.
variable "seconds" {
  type    = number
  default = 30
}

resource "terraform_data" "slow" {
  triggers_replace = [var.seconds]

  provisioner "local-exec" {
    # exec: the interrupt's kill then reaches sleep itself.
    command = "echo started; exec sleep ${var.seconds}"
  }
}

output "seconds" {
  value = var.seconds
}
