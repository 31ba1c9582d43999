variable "name" {
  type    = string
  default = "fixture"
}
