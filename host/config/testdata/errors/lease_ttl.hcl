lease {
  ttl = "500ms"
}
