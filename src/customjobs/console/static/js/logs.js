// Each replica's log, followed live from the server's log endpoint, with a search box.
import { followLog } from "./api.js";
import { fill, h } from "./dom.js";

// Lines kept in the page; older ones are dropped (the full log stays on the server).
const MAX_LINES = 20000;

/** The replica names a CustomJobSpec runs: workerpool{i}-{r}, empty pools skipped. */
export function replicaNames(jobSpec) {
  const names = [];
  (jobSpec?.workerPoolSpecs || []).forEach((pool, i) => {
    if (!pool || !Object.keys(pool).length) return;
    const count = Number(pool.replicaCount || 1);
    for (let r = 0; r < count; r++) names.push(`workerpool${i}-${r}`);
  });
  return names;
}

function highlighted(line, needle) {
  if (!needle) return [line, "\n"];
  const parts = [];
  const lower = line.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, at)) {
    parts.push(line.slice(at, i), h("mark", {}, line.slice(i, i + needle.length)));
    at = i + needle.length;
  }
  parts.push(line.slice(at), "\n");
  return parts;
}

/** The log panel of a job: replica tabs, search, the followed text. */
export function logPanel(name, replicas, signal) {
  const tabs = h("div", { class: "tabs", role: "tablist" });
  const search = h("input", {
    type: "search",
    id: "log-search",
    placeholder: "Search this log",
    "aria-label": "Search the log",
  });
  const counter = h("span", { class: "muted small", id: "log-count" });
  const output = h("pre", { class: "log", id: "log", tabindex: "0" });
  const state = h("span", { class: "muted small", id: "log-state" });
  let lines = [];
  let partial = "";
  let stream = null;

  const needle = () => search.value.trim().toLowerCase();
  const matches = (line) => !needle() || line.toLowerCase().includes(needle());
  const atBottom = () => output.scrollHeight - output.scrollTop - output.clientHeight < 40;

  function render() {
    const shown = lines.filter(matches);
    fill(output, shown.map((line) => highlighted(line, needle())));
    counter.textContent = needle() ? `${shown.length} of ${lines.length} lines` : `${lines.length} lines`;
  }

  function add(text) {
    const stick = atBottom();
    const parts = (partial + text).split("\n");
    partial = parts.pop();
    if (!parts.length) return;
    lines.push(...parts);
    if (lines.length > MAX_LINES) {
      lines = lines.slice(-MAX_LINES);
      render();
    } else {
      output.append(...parts.filter(matches).flatMap((line) => highlighted(line, needle())));
      counter.textContent = needle()
        ? `${lines.filter(matches).length} of ${lines.length} lines`
        : `${lines.length} lines`;
    }
    if (stick) output.scrollTop = output.scrollHeight;
  }

  function follow(replica) {
    if (stream) stream.abort();
    stream = new AbortController();
    signal.addEventListener("abort", () => stream.abort(), { once: true });
    lines = [];
    partial = "";
    render();
    for (const tab of tabs.children) tab.setAttribute("aria-selected", String(tab.dataset.replica === replica));
    state.textContent = "following…";
    const mine = stream.signal;
    followLog(name, replica, add, mine)
      .then(() => {
        if (partial) add("\n");
        state.textContent = "end of log (the job has ended)";
      })
      .catch((err) => {
        if (!mine.aborted) state.textContent = `log unavailable: ${err.message}`;
      });
  }

  for (const replica of replicas) {
    tabs.append(
      h(
        "button",
        { type: "button", role: "tab", class: "tab", dataset: { replica }, onclick: () => follow(replica) },
        replica,
      ),
    );
  }
  search.addEventListener("input", render);
  if (replicas.length) follow(replicas[0]);
  return h(
    "section",
    { class: "card logs" },
    h("div", { class: "card-head" }, h("h2", {}, "Logs"), state),
    tabs,
    h("div", { class: "log-tools" }, search, counter),
    output,
  );
}
