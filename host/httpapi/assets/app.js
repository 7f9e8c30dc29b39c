// HemoStat dashboard. Reads the JSON API (/api/v1/...) and follows the bus
// over Server-Sent Events (/api/v1/stream). Every string from the API goes
// into the page as text (textContent, attribute values): container names,
// reasons and errors come from containers and plugins and are not trusted.
"use strict";
(() => {
  // How often the grid, totals and plugins are read again. Events arrive
  // over the stream at once; a refresh is also scheduled after each.
  const POLL_MS = 5000;
  const REFRESH_AFTER_EVENT_MS = 400;
  const MAX_EVENTS = 500;
  const KNOWN_TYPES = ["health_alert", "remediation_needed", "remediation_complete", "false_alarm", "escalation", "foreign_action"];
  const STATE_LABEL = {
    healthy: "healthy", watching: "watching", acting: "acting",
    backing_off: "backing off", escalated: "escalated", silenced: "silenced",
  };

  const $ = (sel, root = document) => root.querySelector(sel);

  // el builds an element. Text children and "text" become text nodes, never
  // markup; there is no innerHTML anywhere in this file.
  function el(tag, props, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") n.className = v;
      else if (k === "text") n.textContent = String(v);
      else if (k === "onclick") n.addEventListener("click", v);
      else n.setAttribute(k, String(v));
    }
    for (const kid of kids) {
      if (kid === undefined || kid === null || kid === false) continue;
      n.append(kid instanceof Node ? kid : String(kid));
    }
    return n;
  }

  function clear(n) {
    while (n.firstChild) n.removeChild(n.firstChild);
  }

  // ---- formatting -------------------------------------------------------

  function time(at) {
    if (!at) return "";
    const d = new Date(at);
    return isNaN(d) ? String(at) : d.toLocaleTimeString();
  }

  function ago(at) {
    if (!at) return "";
    const d = new Date(at);
    if (isNaN(d)) return String(at);
    let s = Math.round((Date.now() - d.getTime()) / 1000);
    const future = s < 0;
    s = Math.abs(s);
    const txt = s < 60 ? s + "s" : s < 3600 ? Math.round(s / 60) + "m" : s < 86400 ? Math.round(s / 3600) + "h" : Math.round(s / 86400) + "d";
    return future ? "in " + txt : txt + " ago";
  }

  // when is a relative time with the absolute one as its tooltip.
  function when(at) {
    if (!at) return el("span", { class: "muted", text: "–" });
    return el("time", { datetime: at, title: new Date(at).toLocaleString(), text: ago(at) });
  }

  function pct(v) {
    return typeof v === "number" && isFinite(v) ? v.toFixed(1) + "%" : "–";
  }

  function duration(ms) {
    if (typeof ms !== "number" || !isFinite(ms) || ms <= 0) return "–";
    if (ms < 1000) return ms.toFixed(ms < 10 ? 1 : 0) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
    return (ms / 60000).toFixed(1) + " min";
  }

  function confidence(c) {
    return typeof c === "number" && c > 0 ? Math.round(c * 100) + "%" : "–";
  }

  // ---- API --------------------------------------------------------------

  class Unauthorized extends Error {}

  async function api(path) {
    const r = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (r.status === 401) {
      location.assign("/login");
      throw new Unauthorized(path);
    }
    if (!r.ok) throw new Error(path + " answered " + r.status);
    return r.json();
  }

  // Problems are shown on the page, not thrown: a daemon restarting is
  // a normal moment, and the next poll clears the banner.
  const problems = new Map();
  function problem(key, err) {
    if (err instanceof Unauthorized) return;
    if (err) problems.set(key, err.message || String(err));
    else problems.delete(key);
    const box = $("#problem");
    box.hidden = problems.size === 0;
    box.textContent = [...problems.values()].join(" · ");
  }

  // ---- summary ----------------------------------------------------------

  function renderSummary(s) {
    $("#version").textContent = s.version ? "v" + s.version.replace(/^v/, "") : "";
    $("#host").textContent = s.host || "";
    $("#redis").textContent = s.redis_addr ? "Redis " + s.redis_addr + (s.embedded_redis ? " (embedded)" : "") : "";
    $("#dryrun").hidden = !s.dry_run;
    document.body.classList.toggle("is-dry-run", !!s.dry_run);
    const t = s.totals || {};
    const fmt = {
      success_rate: v => (typeof v === "number" && (t.remediations || 0) > 0 ? Math.round(v * 100) + "%" : "–"),
      mean_time_to_detect_ms: duration,
      mean_time_to_remediate_ms: duration,
    };
    for (const dd of document.querySelectorAll("[data-total]")) {
      const k = dd.dataset.total;
      const v = t[k];
      dd.textContent = fmt[k] ? fmt[k](v) : v === undefined || v === null ? "–" : String(v);
    }
    $("#updated").textContent = s.generated_at ? "updated " + time(s.generated_at) : "";
  }

  // ---- containers -------------------------------------------------------

  let containers = [];
  const cards = new Map(); // name -> {card, plot, chart}

  function cpuMemData(c) {
    const h = Array.isArray(c.history) ? c.history : [];
    const xs = [], cpu = [], mem = [];
    for (const p of h) {
      const t = Date.parse(p.at);
      if (isNaN(t)) continue;
      xs.push(t / 1000);
      cpu.push(typeof p.cpu_pct === "number" ? p.cpu_pct : null);
      mem.push(typeof p.memory_pct === "number" ? p.memory_pct : null);
    }
    return [xs, cpu, mem];
  }

  function newPlot(target) {
    if (typeof uPlot !== "function") return null;
    const css = getComputedStyle(document.documentElement);
    const opts = {
      width: Math.max(target.clientWidth, 120),
      height: 44,
      pxAlign: false,
      cursor: { show: false },
      legend: { show: false },
      select: { show: false },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(100, max || 0)] } },
      axes: [{ show: false }, { show: false }],
      series: [
        {},
        { label: "CPU %", stroke: css.getPropertyValue("--cpu").trim() || "#2b6cb0", width: 1.5, points: { show: false } },
        { label: "Memory %", stroke: css.getPropertyValue("--mem").trim() || "#8e44ad", width: 1.5, points: { show: false } },
      ],
    };
    return new uPlot(opts, [[], [], []], target);
  }

  const resizer = typeof ResizeObserver === "function" ? new ResizeObserver(entries => {
    for (const e of entries) {
      const entry = [...cards.values()].find(x => x.chart === e.target);
      if (entry && entry.plot) entry.plot.setSize({ width: Math.max(e.contentRect.width, 120), height: 44 });
    }
  }) : null;

  function cardFor(name) {
    let entry = cards.get(name);
    if (entry) return entry;
    const chart = el("div", { class: "spark", "aria-hidden": "true" });
    const card = el("article", { class: "card", "data-name": name, tabindex: "0" });
    card.addEventListener("click", () => openDetail(name));
    card.addEventListener("keydown", e => { if (e.key === "Enter") openDetail(name); });
    entry = { card, chart, plot: null };
    cards.set(name, entry);
    return entry;
  }

  function fillCard(entry, c) {
    const { card, chart } = entry;
    card.dataset.state = c.state || "unknown";
    clear(card);
    card.append(...[
      el("header", { class: "card-head" },
        el("h3", { text: c.name, title: c.name }),
        el("span", { class: "state-badge", "data-state": c.state || "unknown", text: STATE_LABEL[c.state] || c.state || "unknown" })),
      el("p", { class: "facts" },
        el("span", { class: "status", "data-status": c.status || "unknown", text: c.status || "unknown" }),
        " · health ", el("span", { class: "health", "data-health": c.health || "none", text: c.health || "none" })),
      c.silence ? el("p", { class: "silence", text: "silenced: " + c.silence }) : null,
      el("p", { class: "use" },
        el("span", { class: "cpu", text: "CPU " + pct(c.cpu_pct) }), " ",
        el("span", { class: "mem", text: "mem " + pct(c.memory_pct) })),
      chart,
      lastLine(c),
    ].filter(Boolean)); // append would write a null as "null"
    if (!entry.plot) {
      entry.plot = newPlot(chart);
      if (resizer) resizer.observe(chart);
    }
    if (entry.plot) entry.plot.setData(cpuMemData(c));
  }

  // lastLine is the newest thing that happened to the container.
  function lastLine(c) {
    const a = c.last_action, d = c.last_decision, al = c.last_alert;
    if (c.escalation) return el("p", { class: "last esc", text: "escalated: " + (c.escalation.reason || c.escalation.source || "") });
    const newest = [
      a && { at: a.at, text: a.action + " " + (a.result || "") + (a.message ? ": " + a.message : "") },
      d && { at: d.at, text: (d.verdict || "") + (d.action ? " " + d.action : "") + (d.reason ? ": " + d.reason : "") },
      al && { at: al.at, text: "alert: " + (al.issues || []).join(", ") },
    ].filter(Boolean).sort((x, y) => Date.parse(y.at) - Date.parse(x.at))[0];
    if (!newest) return el("p", { class: "last muted", text: "nothing to report" });
    return el("p", { class: "last", title: newest.text }, when(newest.at), " ", newest.text);
  }

  function renderContainers(list) {
    containers = Array.isArray(list) ? list : [];
    const grid = $("#containers .grid");
    const seen = new Set();
    for (const c of containers) {
      seen.add(c.name);
      const entry = cardFor(c.name);
      fillCard(entry, c);
      grid.append(entry.card); // append moves it: the API's order (escalated first, then by name)
    }
    for (const [name, entry] of cards) {
      if (seen.has(name)) continue;
      if (resizer) resizer.unobserve(entry.chart);
      if (entry.plot) entry.plot.destroy();
      entry.card.remove();
      cards.delete(name);
    }
    $("#containers .count").textContent = containers.length ? "(" + containers.length + ")" : "";
    $("#containers .empty").hidden = containers.length > 0;
    renderPinned();
    updateContainerFilter();
    if (detailName) renderDetail();
  }

  // renderPinned lists the escalations that need a person: the API keeps
  // a container's escalation until the container is healthy again.
  function renderPinned() {
    const esc = containers.filter(c => c.escalation || c.state === "escalated");
    const box = $("#pinned .pins");
    clear(box);
    for (const c of esc) {
      const e = c.escalation || {};
      box.append(el("article", { class: "pin", "data-name": c.name, tabindex: "0", onclick: () => openDetail(c.name) },
        el("h3", { text: c.name }),
        el("p", {}, el("strong", { text: e.source || "escalated" }), " ", when(e.at)),
        el("p", { class: "reason", text: e.reason || "" }),
        el("p", { class: "muted", text: (c.status || "") + (c.health && c.health !== "none" ? " · " + c.health : "") })));
    }
    $("#pinned").hidden = esc.length === 0;
  }

  // ---- detail -----------------------------------------------------------

  let detailName = null;
  let detailRemediations = [];

  function openDetail(name) {
    detailName = name;
    detailRemediations = [];
    renderDetail();
    const dlg = $("#detail");
    if (!dlg.open) dlg.showModal();
    api("/api/v1/remediations?container=" + encodeURIComponent(name) + "&limit=50")
      .then(r => {
        if (detailName !== name) return;
        detailRemediations = r.remediations || [];
        renderDetail();
        problem("remediations");
      })
      .catch(err => problem("remediations", err));
  }

  function table(head, rows) {
    if (!rows.length) return el("p", { class: "muted", text: "none" });
    return el("div", { class: "scroll" }, el("table", {},
      el("thead", {}, el("tr", {}, ...head.map(h => el("th", { text: h })))),
      el("tbody", {}, ...rows.map(r => el("tr", {}, ...r.map(v => el("td", {}, v)))))));
  }

  function renderDetail() {
    const c = containers.find(x => x.name === detailName);
    $("#detail-h").textContent = detailName || "";
    const badge = $("#detail .state-badge");
    badge.dataset.state = c ? c.state : "unknown";
    badge.textContent = c ? STATE_LABEL[c.state] || c.state : "gone";
    const body = $("#detail .detail-body");
    clear(body);
    if (!c) {
      body.append(el("p", { class: "muted", text: "No longer watched." }));
      return;
    }
    const g = c.gate || {};
    const facts = [
      ["Status", c.status], ["Health", c.health], ["CPU", pct(c.cpu_pct)], ["Memory", pct(c.memory_pct)],
      ["Backoff step", g.backoff_step ?? 0],
      ["Next action allowed", g.next_allowed ? when(g.next_allowed) : "now"],
      ["Actions in breaker window", g.actions_in_window ?? 0],
      ["Breaker", g.breaker_open ? el("span", {}, "open, closes ", when(g.breaker_closes_at)) : "closed"],
    ];
    if (g.parked) facts.push(["Deferred", el("span", {}, (g.parked.action || "action") + " ", when(g.parked_until))]);
    if (c.last_alert) facts.push(["Last alert", el("span", {}, when(c.last_alert.at), " " + (c.last_alert.issues || []).join(", "))]);
    body.append(el("dl", { class: "facts-list" }, ...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v ?? "–")])));
    if (c.escalation) {
      body.append(el("div", { class: "esc-box" },
        el("strong", { text: "Escalated" }), " by " + (c.escalation.source || "?") + " ", when(c.escalation.at),
        el("p", { text: c.escalation.reason || "" })));
    }
    const decisions = Array.isArray(c.decisions) && c.decisions.length ? c.decisions : c.last_decision ? [c.last_decision] : [];
    body.append(el("h3", { text: "Decision trail" }),
      table(["When", "Verdict", "Analyzer", "Action", "Confidence", "Reason"],
        decisions.map(d => [when(d.at), el("span", { class: "verdict", "data-verdict": d.verdict || "", text: d.verdict || "" }),
          d.analyzer || "", d.action || "", confidence(d.confidence), d.reason || ""])));
    body.append(el("h3", { text: "Remediation history" }),
      table(["When", "Action", "Result", "Analyzer", "Message"],
        detailRemediations.map(r => [when(r.at), r.action || "",
          el("span", { class: "result", "data-result": r.result || "", text: (r.result || "") + (r.dry_run ? " (dry run)" : "") +
            (r.relapsed_after_ms ? ", relapsed after " + duration(r.relapsed_after_ms) : "") }),
          r.analyzer || "", r.message || ""])));
  }

  // ---- timeline ---------------------------------------------------------

  const events = []; // newest first
  const eventKeys = new Set();
  const filters = { type: "", container: "" };

  function eventKey(env) {
    const d = env.data || {};
    return [env.timestamp, env.type, env.agent, d.container || "", d.request_id || "", (d.result && d.result.status) || ""].join("\u0000");
  }

  function addEvents(list, source) {
    let added = false;
    for (const env of list) {
      if (!env || typeof env !== "object") continue;
      const k = eventKey(env);
      if (eventKeys.has(k)) continue;
      eventKeys.add(k);
      env._source = source;
      events.push(env);
      if (env.type) listenFor(env.type);
      added = true;
    }
    if (!added) return false;
    events.sort((a, b) => (Date.parse(b.timestamp) || 0) - (Date.parse(a.timestamp) || 0));
    while (events.length > MAX_EVENTS) eventKeys.delete(eventKey(events.pop()));
    updateTypeFilter();
    updateContainerFilter();
    renderEvents();
    return true;
  }

  function summary(env) {
    const d = env.data || {};
    switch (env.type) {
      case "health_alert":
        return (d.issues || []).join(", ");
      case "remediation_needed":
        return [d.action, d.reason && "— " + d.reason, d.analyzer && "(" + d.analyzer + ", " + confidence(d.confidence) + ")"].filter(Boolean).join(" ");
      case "remediation_complete": {
        const r = d.result || {};
        const extra = r.reason || r.error || (r.state_after ? "now " + r.state_after : "");
        return [d.action || r.action, r.status, r.dry_run && "(dry run)", extra && "— " + extra,
          r.duration_ms ? "in " + duration(r.duration_ms) : ""].filter(Boolean).join(" ");
      }
      case "false_alarm":
        return [d.reason, d.analyzer && "(" + d.analyzer + ")"].filter(Boolean).join(" ");
      case "escalation":
        return [d.source && d.source + ":", d.reason].filter(Boolean).join(" ");
      case "foreign_action":
        return d.message || [d.action, d.count > 1 && "×" + d.count, "by another engine client"].filter(Boolean).join(" ");
      default: {
        const s = JSON.stringify(d);
        return s.length > 200 ? s.slice(0, 200) + "…" : s;
      }
    }
  }

  function eventStatus(env) {
    const d = env.data || {};
    if (env.type === "remediation_complete") return (d.result && d.result.status) || "";
    return "";
  }

  function renderEvents() {
    const ol = $("#events");
    clear(ol);
    let shown = 0;
    for (const env of events) {
      const c = (env.data && env.data.container) || "";
      if (filters.type && env.type !== filters.type) continue;
      if (filters.container && c !== filters.container) continue;
      if (shown++ >= 200) break;
      ol.append(el("li", {
        class: "event", "data-type": env.type || "", "data-container": c,
        "data-status": eventStatus(env) || null, "data-source": env._source,
      },
      el("time", { datetime: env.timestamp, title: env.timestamp ? new Date(env.timestamp).toLocaleString() : "", text: time(env.timestamp) }),
      el("span", { class: "type", text: (env.type || "?").replace(/_/g, " ") }),
      c ? el("button", { type: "button", class: "link container-link", text: c, onclick: () => openDetail(c) }) : null,
      el("span", { class: "summary", text: summary(env) }),
      env.agent ? el("span", { class: "agent muted", text: env.agent }) : null));
    }
    $("#timeline .empty").hidden = shown > 0;
  }

  // setOptions keeps a select's first "all" option and the chosen value.
  function setOptions(select, values) {
    const current = select.value;
    const want = ["", ...values];
    const have = [...select.options].map(o => o.value);
    if (want.length === have.length && want.every((v, i) => v === have[i])) return;
    while (select.options.length > 1) select.remove(1);
    for (const v of values) select.append(el("option", { value: v, text: v.replace(/_/g, " ") }));
    select.value = want.includes(current) ? current : "";
  }

  function updateTypeFilter() {
    const types = new Set(KNOWN_TYPES);
    for (const e of events) if (e.type) types.add(e.type);
    setOptions($("#filters [name=type]"), [...types].sort());
  }

  function updateContainerFilter() {
    const names = new Set(containers.map(c => c.name));
    for (const e of events) if (e.data && e.data.container) names.add(e.data.container);
    setOptions($("#filters [name=container]"), [...names].sort());
  }

  async function loadEvents() {
    const q = new URLSearchParams({ limit: "200" });
    if (filters.type) q.set("type", filters.type);
    if (filters.container) q.set("container", filters.container);
    try {
      const r = await api("/api/v1/events?" + q);
      addEvents(r.events || [], "history");
      renderEvents();
      problem("events");
    } catch (err) {
      problem("events", err);
    }
  }

  // ---- stream -----------------------------------------------------------

  let stream = null;
  const listening = new Set();

  function onStreamEvent(msg) {
    let env;
    try {
      env = JSON.parse(msg.data);
    } catch {
      return;
    }
    addEvents([env], "live");
    scheduleRefresh();
  }

  // listenFor subscribes to a named SSE event: the stream names each event
  // by its envelope type, and EventSource delivers a named event only to
  // listeners of that name. Types first seen in the history (an external
  // agent's) are added as they appear.
  function listenFor(type) {
    if (!stream || listening.has(type)) return;
    listening.add(type);
    stream.addEventListener(type, onStreamEvent);
  }

  function setLive(state, text) {
    const n = $("#live");
    n.dataset.live = state;
    n.textContent = text;
  }

  function connect() {
    listening.clear();
    stream = new EventSource("/api/v1/stream");
    stream.onmessage = onStreamEvent;
    for (const t of KNOWN_TYPES) listenFor(t);
    for (const e of events) if (e.type) listenFor(e.type);
    // The server cuts a client that fell behind its buffer; the browser
    // reconnects by itself, and onopen reads what was missed.
    stream.addEventListener("cut", () => setLive("connecting", "fell behind, reconnecting…"));
    stream.onopen = () => {
      setLive("on", "live");
      // What happened while disconnected is in the logs.
      loadEvents();
    };
    stream.onerror = () => {
      if (stream.readyState === EventSource.CLOSED) {
        // Refused (401, or the daemon gone): the browser gives up on its
        // own; try again, and let a poll send us to /login if need be.
        setLive("off", "disconnected");
        stream.close();
        setTimeout(connect, POLL_MS);
      } else {
        setLive("connecting", "reconnecting…");
      }
    };
  }

  // ---- polling ----------------------------------------------------------

  let refreshTimer = null;
  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      refresh();
    }, REFRESH_AFTER_EVENT_MS);
  }

  async function refresh() {
    const jobs = [
      api("/api/v1/summary").then(renderSummary).then(() => problem("summary"), err => problem("summary", err)),
      api("/api/v1/containers").then(r => renderContainers(r.containers)).then(() => problem("containers"), err => problem("containers", err)),
      api("/api/v1/plugins").then(r => renderPlugins(r.plugins)).then(() => problem("plugins"), err => problem("plugins", err)),
      api("/api/v1/hosts").then(renderHosts).then(() => problem("hosts"), err => problem("hosts", err)),
    ];
    await Promise.all(jobs);
  }

  function renderPlugins(list) {
    const tbody = $("#plugins tbody");
    clear(tbody);
    for (const p of list || []) {
      tbody.append(el("tr", { "data-plugin": (p.role || "") + "/" + (p.name || ""), "data-state": p.state || "" },
        el("td", { text: p.role || "" }),
        el("td", { text: p.name || "", title: p.path || "built in" }),
        el("td", {}, el("span", { class: "plugin-state", "data-state": p.state || "", text: p.state || "" })),
        el("td", { text: p.version || "–" }),
        el("td", { text: p.pid ? String(p.pid) : "–" }),
        el("td", { text: String(p.restarts ?? 0) }),
        el("td", {}, when(p.since)),
        el("td", { class: "error", text: p.last_error || "" })));
    }
  }

  // ---- hosts ------------------------------------------------------------

  // renderHosts fills the hosts strip from /api/v1/hosts: each host up or
  // down (and why), its containers, its active daemon and its standbys.
  function renderHosts(r) {
    const list = (r && r.hosts) || [];
    const box = $("#hosts");
    box.hidden = list.length === 0;
    const down = list.filter(h => !h.up).length;
    $("#hosts .count").textContent = list.length ? "(" + list.length + (down ? ", " + down + " down" : "") + ")" : "";
    const ul = $("#hosts .hosts");
    clear(ul);
    for (const h of list) {
      const daemons = h.daemons || [];
      const standby = daemons.filter(d => d.role === "standby").length;
      const active = h.active || (daemons.length === 1 ? daemons[0].id : "");
      ul.append(el("li", { class: "host", "data-host": h.host || "", "data-up": h.up ? "true" : "false" },
        el("h3", {}, el("span", { text: h.host || "" }), el("span", { class: "up", text: h.up ? "up" : "down" })),
        h.up ? null : el("p", { class: "why", text: h.reason || "" }),
        el("p", { class: "containers", text: (h.containers || 0) + " container" + (h.containers === 1 ? "" : "s") }),
        el("p", { class: "daemons", text: (active ? "active " + active + (h.lease_gen ? " (lease " + h.lease_gen + ")" : "") : daemons.length + " daemons") + (standby ? " · " + standby + " standby" : "") })));
    }
    if (r && r.unattributed_containers) {
      ul.append(el("li", { class: "host unattributed", text: r.unattributed_containers + " containers name no host" }));
    }
  }

  // ---- start ------------------------------------------------------------

  function start() {
    $("#filters").addEventListener("change", e => {
      filters[e.target.name] = e.target.value;
      renderEvents();
      loadEvents();
    });
    $("#filters").addEventListener("submit", e => e.preventDefault());
    $("#detail .close").addEventListener("click", () => $("#detail").close());
    $("#detail").addEventListener("close", () => { detailName = null; });
    updateTypeFilter();
    connect();
    loadEvents();
    refresh();
    setInterval(refresh, POLL_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
