# hemostatd's configuration inside the container image (see compose.yaml).
# Every setting not written here keeps its default; the repository's
# hemostat.hcl documents them all.
plugin_dir = "/plugins"

redis {
  address  = env("HEMOSTAT_REDIS_ADDRESS", "redis:6379")
  password = env("HEMOSTAT_REDIS_PASSWORD", "")
}

http {
  # Inside the container the dashboard must listen beyond loopback to be
  # published; the token is then required.
  address = "0.0.0.0:9090"
  token   = env("HEMOSTAT_TOKEN")
}

monitor {
  plugin "docker" {
    config {
      # The host's cgroup tree, mounted read-only by compose.yaml: ≈66 µs a
      # read against ≈1 s (and ≈28x the CPU) for the stats API.
      cgroup_root = "/host/sys/fs/cgroup"
    }
  }
}

responder {
  # Never touch the stack itself.
  protected = ["hemostat*", "*redis*"]
  plugin "docker" {}
}
