redis {
  addresses       = ["10.0.0.1:6379", "10.0.0.1:6379"]
  sentinel_master = "mymaster"
  db              = -1
}

http {
  address = "127.0.0.1:65536"
}
