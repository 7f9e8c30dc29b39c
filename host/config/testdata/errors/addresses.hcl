redis {
  address   = "localhost"
  addresses = ["10.0.0.1:6379"]
}

http {
  address = "0.0.0.0:9090"
}
