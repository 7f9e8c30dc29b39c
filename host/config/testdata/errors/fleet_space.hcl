fleet = true
host  = "two words"
redis { address = "r:6379" }
