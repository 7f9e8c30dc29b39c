analyzer {
  plugin "threshold" {}
  plugin "llm" {}
  plugin "threshold" {}
}

analyzer {
  enabled = false
}

alert {
  plugin "slack" {
    config {
      channel = "#ops"
    }
    config {
      channel = "#dev"
    }
  }
}
