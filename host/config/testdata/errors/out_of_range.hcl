log_level  = "verbose"
log_format = "xml"

monitor {
  cpu_pct    = 120
  memory_pct = -1
}

responder {
  min_confidence = 1.5

  breaker {
    max_actions = 0
  }

  backoff {
    initial = "5m"
    max     = "10s"
  }
}

alert {
  plugin "slack" {
    events       = ["remediation_complete", "crash"]
    min_severity = "urgent"
    sha256       = "abc123"
  }
}
