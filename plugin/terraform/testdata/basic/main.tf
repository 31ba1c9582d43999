# Built-in resources only: runs with no provider registry.
resource "terraform_data" "greeting" {
  input = "hello ${var.name}"
}

resource "terraform_data" "replica" {
  count = var.replicas
  input = count.index
}

resource "terraform_data" "credential" {
  input = sha256(var.secret)

  provisioner "local-exec" {
    # Shows that Options.Env reaches Terraform's processes and, in the
    # operation test, that the redactor masks what they print and that the
    # operation's own inputs are not inherited.
    command = "echo provisioned ${self.id} with client secret $${ARM_CLIENT_SECRET:-unset}, inputs $${sensitive_variables:-not inherited}"
  }
}
