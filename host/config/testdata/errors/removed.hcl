monitor {
  restart_loop {
    count  = 5
    window = "10m"
  }
}
