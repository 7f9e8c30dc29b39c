redis {
  password = env("HEMOSTAT_CONFIG_TEST_UNSET")
}

alert {
  plugin "slack" {
    config {
      webhook_url = env("HEMOSTAT_CONFIG_TEST_UNSET")
      channel     = env("")
    }
  }
}
