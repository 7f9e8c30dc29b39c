monitor {
  enabled = "yes"
  cpu_pct = "high"
}

responder {
  actions = "restart"
}

redis {
  db = 1.5
}
