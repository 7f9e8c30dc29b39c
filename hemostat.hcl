# hemostat.hcl — hemostatd's configuration.
#
# Every setting below is shown with its default, so this file behaves exactly
# like running hemostatd with no file at all. Delete what you do not change.
# Durations are strings such as "30s", "5m" or "1h". Secrets never go in this
# file: env("NAME") reads them from the environment (an error names the
# variable when it is unset), env("NAME", "fallback") gives a default.
# Check a file with: hemostatd validate -config hemostat.hcl

# trace, debug, info, warn or error; debug shows every decision of the gate.
log_level = "info"

# text for people, json for log collectors.
log_format = "text"

# Where hemostatd keeps its files (the embedded Redis's address, in
# redis.addr). Empty is $XDG_DATA_HOME/hemostat, else ~/.local/share/hemostat,
# else /var/lib/hemostat.
data_dir = ""

# Custom plugins are executables named hemostat-<role>-<name> in this
# directory; a plugin found here replaces the built-in of the same name.
# Empty is <data_dir>/plugins.
plugin_dir = ""

# This daemon's Docker host, as the bus names it: every envelope hemostatd
# publishes carries it as data.host. Empty is the engine's name (docker
# info), else the machine's host name. No "/", ":" or spaces.
host = ""

# true when several hemostatd, one per Docker host, share one Redis: then a
# container is "<host>/<name>" on the wire and in every key, each daemon acts
# on its own host's containers only, and each alert is judged and told once
# fleet-wide. false keeps the protocol's bare names, for a single host.
fleet = false

redis {
  # Empty runs an embedded Redis on loopback, so hemostatd needs nothing else.
  # Set "host:port" for a real server, or addresses = [...] for a cluster or,
  # with sentinel_master, for Sentinel.
  address = ""

  # Only with Sentinel: the name of the monitored master.
  sentinel_master = ""

  # ACL user and password (Redis 6+); password alone is classic AUTH.
  username = ""
  password = env("REDIS_PASSWORD", "")

  # Database number; ignored by a cluster, which has only 0.
  db = 0

  # How hemostatd's roles receive envelopes. "pubsub" is the protocol's
  # channels. "streams" also appends every envelope to a capped stream per
  # type (hemostat:stream:<type>) and reads those through consumer groups,
  # so an alert published while a role restarts is handled when it is back;
  # it needs an address, and agents of your own must XADD too (see README).
  delivery = "pubsub"
  # Streams only: how long an entry may stay unacknowledged by a consumer
  # before another claims it (longer than the slowest responder action).
  claim_min_idle = "3m"

  tls {
    # Encrypt the connection to a real server (managed Redis usually needs it).
    enabled = false
    # CA bundle for the server's certificate; empty uses the system roots.
    ca_file = ""
    # Client certificate and key, for servers that require mutual TLS.
    cert_file = ""
    key_file  = ""
    # Name expected in the server's certificate; empty uses the host name.
    server_name = ""
    # Never true in production: it accepts any certificate.
    insecure_skip_verify = false
  }
}

lease {
  # With a shared Redis (an address above), the daemons on one Docker engine
  # elect one active daemon through a lease in Redis; the others stand by
  # and take over when it stops renewing. Ignored with the embedded Redis.
  enabled = true
  # How long the lease lives unrenewed: a standby takes over within it after
  # the active daemon dies. Renewed every ttl/3; at least 1s.
  ttl = "5s"
}

http {
  # Dashboard, JSON API and /metrics. Loopback by default; "" turns it off.
  # Any other address requires a token.
  address = "127.0.0.1:9090"
  # Bearer token clients must send; required beyond loopback.
  token = env("HEMOSTAT_TOKEN", "")
  # Serve Go's runtime profiles under /debug/pprof/ (behind the token).
  pprof = false
}

monitor {
  # Set false to run your own monitor that publishes hemostat:health_alert.
  enabled = true

  # Resource thresholds, in percent of the container's limit (or the host's).
  cpu_pct    = 85
  memory_pct = 90

  # A breach must last this long before it is an alert, so one spike is not.
  sustain = "30s"

  # After a container starts, resource thresholds wait this long (warm-up).
  grace = "60s"

  # While a container stays sick, the same issue is alerted at most this
  # often. Once it was healthy again, back under the line or restarted, its
  # next trouble alerts at once: the responder's backoff paces the actions.
  realert = "5m"

  # A leak is alerted at once, before the OOM kill: a line fitted to the
  # container's last leak_samples memory figures that rises clear of the
  # noise (3 standard errors) and reaches the limit within leak_horizon.
  # The horizon is a few sampling intervals plus the time a restart takes.
  leak_forecast = true
  leak_horizon  = "30s"
  leak_samples  = 6

  # Restart loops are set in one place: responder { breaker { … } }.

  # The Docker monitor: engine events plus cgroup sampling.
  plugin "docker" {
    # Deadline of each call to the plugin (its event stream has none).
    timeout = "10s"
    # Off keeps the block but does not run the plugin.
    enabled = true
    # An executable to run instead of the built-in, optionally pinned:
    # path   = "/usr/local/lib/hemostat/hemostat-monitor-docker"
    # sha256 = "<64 hex characters of the executable's SHA-256>"
    # Plugins start with a minimal environment (PATH, HOME, locale, TZ,
    # DOCKER_*); name any other variable of hemostatd's they need:
    # env = ["HTTPS_PROXY"]
    config {
      # How often resource usage is sampled.
      interval = "5s"
    }
  }
}

analyzer {
  # Set false to run your own analyzer on hemostat:health_alert.
  enabled = true

  # Alerts judged at once, for different containers (one container's alerts
  # are judged in order). Sized for slow analyzers such as an LLM.
  workers = 64

  # A chain, asked in order until one decides; the threshold analyzer is the
  # rule-based fallback. The LLM analyzer is off until a block names it
  # (plugins/analyzer-llm/README.md); uncomment to put it first:
  # plugin "llm" {
  #   timeout = "20s"                             # the model never delays healing longer
  #   config {
  #     provider    = "openai"                    # any OpenAI-compatible server; or "anthropic"
  #     model       = "gpt-4o-mini"
  #     base_url    = "http://127.0.0.1:11434/v1" # optional: Ollama, vLLM, llama.cpp, LM Studio
  #     api_key     = env("OPENAI_API_KEY", "")
  #     actions     = ["restart"]                 # narrowed to the responder's actions
  #     max_tokens  = 400
  #     concurrency = 8
  #     mode        = "decide"                    # "shadow": record its verdict, threshold decides
  #   }
  # }
  plugin "threshold" {
    timeout = "10s"
    config {
      # Usage above which the rules call for a restart.
      cpu_pct = 85
    }
  }
}

responder {
  # Set false to only observe and alert.
  enabled = true

  # Decide and report, but never touch a container.
  dry_run = false

  # Decisions less sure than this are not acted on.
  min_confidence = 0.7

  # The only actions the responder may take.
  actions = ["restart", "start", "unpause"]

  # Container names or globs never touched: hemostatd itself and its Redis.
  protected = ["hemostat*", "*redis*"]

  # true limits remediation to containers labelled hemostat.enable=true.
  require_opt_in = false

  # A flat wait between actions on a container; above 0 it replaces backoff.
  cooldown = "0s"

  # Per-container wait between actions, doubled after each up to max, reset
  # after reset_after of health (Kubernetes' CrashLoopBackOff numbers). An
  # action due in the wait is deferred, then re-checked, never dropped.
  backoff {
    initial     = "10s"
    max         = "5m"
    reset_after = "10m"
  }

  # The restart-loop policy, the only one: after max_actions actions on a
  # container within window, stop acting and escalate once. With the backoff
  # above a crash loop is acted on after 0, 10, 20, 40 and 80 s, then
  # escalated. A container Docker's own restart policy keeps restarting gets
  # the same allowance: the restart after max_actions within window is a
  # restart loop, escalated.
  breaker {
    max_actions = 5
    window      = "1h"
  }

  # Remediation through the Docker Engine API. Its calls get longer than
  # the others: a restart waits for the stop timeout and then for the
  # container to be running (and healthy) again.
  plugin "docker" {
    timeout = "2m"
  }
}

alert {
  # Set false to silence every alert plugin; the log alert always runs.
  enabled = true

  # One incident — a container, a kind of news (restart succeeded, deferred,
  # escalated, …), a host — is one message: the first at once, more of the
  # same within this window as one message with their count.
  dedupe_window = "5m"

  # Many containers at once is a storm: once notifications about
  # `containers` different containers went out within `window`, what
  # follows is collected for `wait` and sent as one summary listing them.
  # containers = 0 turns it off.
  storm {
    containers = 5
    window     = "1m"
    wait       = "10s"
  }

  # Silences mute matching notifications until a time; they are stored in
  # Redis, so every hemostatd sees them. Add more at run time with
  # `hemostatd silence add` or POST /api/v1/silences. For example:
  # silence {
  #   containers = "batch-*"                  # a name or glob
  #   event      = "false_alarm"              # optional: an event type or kind
  #   until      = "2027-01-31T18:00:00Z"
  #   comment    = "nightly jobs spike by design"
  # }

  # No alert plugin by default; the log alert reports everything. The
  # built-in Slack and webhook plugins, for example:
  # plugin "slack" {
  #   # Event types routed here (default: all of them).
  #   events = ["remediation_complete", "escalation"]
  #   # info, warning or critical (default: info).
  #   min_severity = "warning"
  #   # Container names or globs routed here (default: every container).
  #   containers = ["web-*", "db"]
  #   config {
  #     token   = env("SLACK_BOT_TOKEN")
  #     channel = "#ops"
  #   }
  # }
  # plugin "webhook" {
  #   config {
  #     url    = "https://hooks.example.com/hemostat"
  #     secret = env("HEMOSTAT_WEBHOOK_SECRET")
  #   }
  # }
}
