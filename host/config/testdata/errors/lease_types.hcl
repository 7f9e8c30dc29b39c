lease {
  ttl = "five"
  enabled = "maybe"
}
