locals { name = "x" }
