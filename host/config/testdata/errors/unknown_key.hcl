log_levle = "debug"

webserver {
  port = 80
}

responder {
  backoff {
    initial = "10s"
    maximum = "5m"
  }
}

monitor {
  plugin "docker" {
    events = ["health_alert"]
  }
}
