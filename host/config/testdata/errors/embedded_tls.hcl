redis {
  tls {
    enabled   = true
    cert_file = "client.pem"
  }
}
