monitor {
  sustain = "30"
  grace   = "-5s"
  realert = "0s"

  plugin "docker" {
    timeout = "fast"
  }
}

alert {
  dedupe_window = 300
}
