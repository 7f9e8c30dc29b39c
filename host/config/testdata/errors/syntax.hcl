log_level = "info"
monitor {
  cpu_pct = 85
