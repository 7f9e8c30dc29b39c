monitor {
  leak_forecast = "sometimes"
  leak_horizon  = "0s"
  leak_samples  = 2
}
