host  = "rack-1"
fleet = true
