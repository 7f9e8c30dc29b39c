redis {
  address = "127.0.0.1:0"
}
