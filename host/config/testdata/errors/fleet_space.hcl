fleet = true
host  = "two words"
