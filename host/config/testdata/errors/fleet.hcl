host = "rack-1/web"
fleet = "maybe"
