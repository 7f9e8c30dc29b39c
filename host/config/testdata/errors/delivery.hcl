redis {
  delivery       = "kafka"
  claim_min_idle = "0s"
}
