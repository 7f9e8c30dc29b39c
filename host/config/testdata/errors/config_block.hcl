analyzer {
  plugin "llm" {
    config {
      model = upper("x")
      url   = var.url

      retry {
        attempts = 3
      }
    }
  }
}
