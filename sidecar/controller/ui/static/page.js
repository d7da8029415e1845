// The controller's live page: plain browser JavaScript, no build step, nothing loaded from
// elsewhere. It draws what GET /v1/events streams: a snapshot of the last minutes, then one
// sample per decision. Charts are uPlot (served by the controller from its own dependencies).

const WINDOW_S = 5 * 60;
const DECISIONS_SHOWN = 50;
const COLORS = {
  current: "#2563eb",
  desired: "#f97316",
  ready: "#16a34a",
  value: "#7c3aed",
  target: "#dc2626",
  queue: "#0891b2",
  inFlight: "#a16207",
};

/** key → { info, samples, decisions, el, charts, dirty } */
const workloads = new Map();
// For tests and the curious: the uPlot instances per workload, as drawn.
window.swell = { workloads };

const statusEl = document.getElementById("status");
const mainEl = document.getElementById("workloads");
const emptyEl = document.getElementById("empty");

function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("data-")) e.setAttribute(k, v);
    else if (k === "class") e.className = v;
    else e[k] = v;
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
}

function fmt(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return "–";
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2).replace(/\.?0+$/, "");
}

function chart(figure, title, series, yLabel) {
  const width = Math.max(280, figure.clientWidth || 400);
  const opts = {
    title,
    width,
    height: 180,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1, min)] } },
    axes: [{}, { label: yLabel, size: 50 }],
    series: [{}, ...series],
    legend: { live: true },
  };
  const data = [[], ...series.map(() => [])];
  return new uPlot(opts, data, figure);
}

function line(label, stroke, extra = {}) {
  return { label, stroke, width: 2, points: { show: false }, ...extra };
}

function addWorkload(info) {
  const existing = workloads.get(info.key);
  if (existing) {
    existing.info = info;
    rebuildCharts(existing);
    return existing;
  }
  emptyEl.hidden = true;
  const now = {
    current: el("output", { "data-field": "currentReplicas" }, "–"),
    desired: el("output", { "data-field": "desiredReplicas" }, "–"),
    ready: el("output", { "data-field": "readyReplicas" }, "–"),
    pods: el("output", { "data-field": "pods" }, "–"),
  };
  const section = el(
    "section",
    { class: "workload", "data-workload": info.key },
    el(
      "header",
      {},
      el("h2", {}, info.key),
      el("p", { class: "policy" }),
      el(
        "dl",
        { class: "now" },
        el("dt", {}, "current"),
        el("dd", {}, now.current),
        el("dt", {}, "desired"),
        el("dd", {}, now.desired),
        el("dt", {}, "ready"),
        el("dd", {}, now.ready),
        el("dt", {}, "reporting"),
        el("dd", {}, now.pods),
      ),
    ),
    el("div", { class: "charts" }),
    el("h3", {}, "Decisions"),
    el("p", { class: "hint" }, "newest first; a steady hold is listed once"),
    el("ol", { class: "decisions" }),
  );
  mainEl.append(section);
  const w = { info, samples: [], decisions: [], el: section, now, charts: {}, dirty: true };
  workloads.set(info.key, w);
  rebuildCharts(w);
  return w;
}

function rebuildCharts(w) {
  const { info } = w;
  w.el.querySelector(".policy").textContent =
    `${info.kind} ${info.name} · ${info.mode === "dryRun" ? "dry run (decides, does not scale)" : "enforce"} · ` +
    `${info.minReplicas}..${info.maxReplicas} replicas`;
  const box = w.el.querySelector(".charts");
  for (const u of Object.values(w.charts)) u.destroy();
  box.replaceChildren();
  w.charts = {};
  const figure = (name) => box.appendChild(el("figure", { "data-chart": name }));
  w.charts.replicas = chart(
    figure("replicas"),
    "Replicas",
    [
      line("current", COLORS.current, { paths: uPlot.paths.stepped({ align: 1 }) }),
      line("desired", COLORS.desired, { dash: [6, 4], paths: uPlot.paths.stepped({ align: 1 }) }),
      line("ready", COLORS.ready, { paths: uPlot.paths.stepped({ align: 1 }) }),
    ],
    "replicas",
  );
  for (const m of info.metrics) {
    w.charts[`signal:${m.name}`] = chart(
      figure(`signal:${m.name}`),
      `${m.name} per ready replica, target ${fmt(m.averageValue)}`,
      [line(m.name, COLORS.value), line("target", COLORS.target, { dash: [4, 4], width: 1 })],
      m.unit,
    );
  }
  w.charts.queue = chart(
    figure("queue"),
    "Queue and in flight (all replicas)",
    [line("queued", COLORS.queue), line("in flight", COLORS.inFlight)],
    "jobs / requests",
  );
  w.dirty = true;
}

function addSample(s) {
  const w = workloads.get(s.workload);
  if (!w) return; // its workload event comes first; a sample of a removed workload is dropped
  w.samples.push(s);
  const oldest = s.t - WINDOW_S * 1000;
  let drop = 0;
  while (drop < w.samples.length && w.samples[drop].t < oldest) drop++;
  if (drop) w.samples.splice(0, drop);
  if (s.decision) addDecision(w, s.decision);
  w.dirty = true;
}

function direction(d) {
  return d.desiredReplicas > d.currentReplicas
    ? "up"
    : d.desiredReplicas < d.currentReplicas
      ? "down"
      : "hold";
}

// One row per policy stage (recommend, backlog, stabilize, panic or rateLimit, floors): the size
// it handed on, what limited it, and its note.
function stagesTable(stages) {
  const rows = stages.map((st) =>
    el(
      "tr",
      { "data-stage": st.stage },
      el("th", {}, st.stage),
      el("td", { class: "num" }, String(st.replicas)),
      el("td", {}, st.limitedBy ?? ""),
      el("td", { class: "note" }, st.note),
    ),
  );
  return el(
    "details",
    { class: "stages" },
    el("summary", {}, "stages"),
    el(
      "table",
      {},
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", {}, "stage"),
          el("th", {}, "replicas"),
          el("th", {}, "limited by"),
          el("th", {}, "note"),
        ),
      ),
      el("tbody", {}, ...rows),
    ),
  );
}

function addDecision(w, d) {
  w.decisions.unshift(d);
  if (w.decisions.length > DECISIONS_SHOWN) w.decisions.length = DECISIONS_SHOWN;
  const dir = direction(d);
  const badges = el("span", { class: "badges" });
  const badge = (text, cls) => badges.append(el("span", { class: `badge ${cls}` }, text));
  if (d.limitedBy) badge(`limited by ${d.limitedBy}`, "limited");
  if (d.panic) badge("panic", "panic");
  if (d.dryRun) badge("dry run", "dry");
  if (d.error) badge(`write failed: ${d.error}`, "error");
  else if (d.applied) badge("applied", "applied");
  const item = el(
    "li",
    { class: `decision ${dir}`, "data-direction": dir },
    el(
      "div",
      { class: "head" },
      el("time", { dateTime: d.at }, new Date(d.at).toLocaleTimeString()),
      el("span", { class: "change" }, `${d.currentReplicas} → ${d.desiredReplicas}`),
      d.recommendation !== undefined
        ? el("span", { class: "rec" }, `metrics asked for ${d.recommendation}`)
        : null,
      badges,
    ),
    el("p", { class: "reason" }, d.reason),
    d.stages?.length ? stagesTable(d.stages) : null,
  );
  const list = w.el.querySelector(".decisions");
  list.prepend(item);
  while (list.children.length > DECISIONS_SHOWN) list.lastElementChild.remove();
}

function draw() {
  for (const w of workloads.values()) {
    if (!w.dirty) continue;
    w.dirty = false;
    const xs = w.samples.map((s) => s.t / 1000);
    const col = (f) => w.samples.map(f);
    w.charts.replicas.setData([
      xs,
      col((s) => s.currentReplicas),
      col((s) => s.desiredReplicas),
      col((s) => s.readyReplicas),
    ]);
    for (const m of w.info.metrics) {
      w.charts[`signal:${m.name}`]?.setData([
        xs,
        col((s) => {
          const v = s.signals[m.name];
          return v === undefined ? null : v / Math.max(1, s.readyReplicas);
        }),
        col(() => m.averageValue),
      ]);
    }
    w.charts.queue.setData([
      xs,
      col((s) => s.signals.queueLength ?? null),
      col((s) => s.signals.inFlight ?? null),
    ]);
    const last = w.samples.at(-1);
    if (last) {
      w.now.current.textContent = String(last.currentReplicas);
      w.now.desired.textContent = String(last.desiredReplicas);
      w.now.ready.textContent = String(last.readyReplicas);
      w.now.pods.textContent = String(last.pods);
    }
  }
  requestAnimationFrame(draw);
}

function reset() {
  for (const w of workloads.values()) {
    for (const u of Object.values(w.charts)) u.destroy();
    w.el.remove();
  }
  workloads.clear();
  emptyEl.hidden = false;
}

function connect() {
  const source = new EventSource("/v1/events");
  source.addEventListener("snapshot", (e) => {
    // Every (re)connection starts from the server's state: no gap, no duplicate.
    reset();
    const snap = JSON.parse(e.data);
    for (const info of snap.workloads) addWorkload(info);
    for (const s of snap.samples) addSample(s);
    setStatus(
      "live",
      `live · controller ${snap.identity}${snap.leader ? `, leader ${snap.leader}` : ""}`,
    );
  });
  source.addEventListener("workload", (e) => addWorkload(JSON.parse(e.data)));
  source.addEventListener("sample", (e) => addSample(JSON.parse(e.data)));
  source.addEventListener("end", () =>
    setStatus("down", "the controller is stopping; reconnecting…"),
  );
  source.addEventListener("error", () => {
    if (source.readyState !== EventSource.OPEN) setStatus("down", "disconnected; reconnecting…");
  });
}

window.addEventListener("resize", () => {
  for (const w of workloads.values()) {
    for (const u of Object.values(w.charts)) {
      u.setSize({ width: Math.max(280, u.root.parentElement.clientWidth), height: 180 });
    }
  }
});

connect();
requestAnimationFrame(draw);
