redis {
  db = 1e100000000
}

monitor {
  memory_pct = 1e100000000
}

analyzer {
  plugin "threshold" {
    config {
      fine  = [1e308, 5e-324, 0, -2.5]
      huge  = [1, { n = 1e100000000 }]
      small = -1e-100000000
    }
  }
}
