plugin_dir = ""

monitor {
  plugin "../evil" {
    path = ""
  }
}

responder {
  protected = ["hemostat*", "[redis"]
  actions   = ["restart", ""]

  plugin "docker" {
    enabled = false
  }
}
