analyzer {
  plugin "llm" {
    env = ["OPENAI_API_KEY", "NOT-A-NAME"]
  }
}
