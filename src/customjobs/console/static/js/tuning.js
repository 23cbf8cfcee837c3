// HyperparameterTuningJobs: the scope's list, and one study's page: its spec, its trials with the
// best one marked, the first metric by trial as an inline SVG plot, and Cancel. Live by polling.
import { cancelTuningJob, getJob, listTuningJobs } from "./api.js";
import { confirmAction, fill, h } from "./dom.js";
import { TERMINAL, duration, jobId, stateBadge, stateName, when } from "./format.js";
import { errorBox } from "./job.js";
import { cell, mountResourceList, muted, table } from "./resource_list.js";
import { poll } from "./util.js";

const POLL_MS = 1000;
const TRIAL_DONE = new Set(["SUCCEEDED", "INFEASIBLE"]);
const LIST_COLUMNS = ["Tuning job", "State", "Trials", "Algorithm", "Created"];
const SVG_NS = "http://www.w3.org/2000/svg";

export const tuningHash = (scope, query = "") =>
  `#/projects/${scope.project}/locations/${scope.location}/hyperparameterTuningJobs${query ? `?${query}` : ""}`;

const trialCount = (job) =>
  `${(job.trials || []).filter((t) => TRIAL_DONE.has(t.state)).length} / ${job.maxTrialCount || "?"}`;
const algorithm = (job) => job.studySpec?.algorithm || "ALGORITHM_UNSPECIFIED (Bayesian)";

/** A parameter or metric value as shown: numbers to 6 significant digits (-0 as 0), strings as they are. */
const shown = (v) =>
  v === undefined || v === null ? "" : typeof v === "number" ? String(Number(v.toPrecision(6))) : String(v);

/** A trial's final value of one metric; proto3 JSON leaves a 0 out, so a metric without `value` is 0. */
function metricValue(trial, metricId) {
  const metric = (trial.finalMeasurement?.metrics || []).find((m) => m.metricId === metricId);
  return metric ? Number(metric.value ?? 0) : undefined;
}

const paramValue = (trial, id) => (trial.parameters || []).find((p) => p.parameterId === id)?.value;

/** The SUCCEEDED trial whose final value of the first metric is best for its goal; null before one. */
export function bestTrial(job) {
  const metric = job.studySpec?.metrics?.[0];
  if (!metric) return null;
  const sign = metric.goal === "MINIMIZE" ? -1 : 1;
  let best = null;
  let bestScore = 0;
  for (const trial of job.trials || []) {
    if (trial.state !== "SUCCEEDED" || !trial.finalMeasurement) continue;
    const value = metricValue(trial, metric.metricId);
    if (value === undefined || Number.isNaN(value)) continue;
    if (best === null || sign * value > bestScore) [best, bestScore] = [trial, sign * value];
  }
  return best;
}

function paramSpec(p) {
  const range = p.doubleValueSpec || p.integerValueSpec;
  const values = (p.categoricalValueSpec || p.discreteValueSpec)?.values || [];
  const kind = Object.keys(p).find((k) => k.endsWith("ValueSpec"))?.replace("ValueSpec", "") || "?";
  const domain = range ? `[${range.minValue ?? 0}, ${range.maxValue ?? 0}]` : `{${values.join(", ")}}`;
  const scale = p.scaleType && p.scaleType !== "SCALE_TYPE_UNSPECIFIED" ? ` · ${p.scaleType.toLowerCase()}` : "";
  return h("li", { dataset: { param: p.parameterId } }, h("b", {}, p.parameterId), ` ${kind} ${domain}${scale}`);
}

function studyCard(job) {
  const spec = job.studySpec || {};
  const metric = (m) => h("li", { dataset: { metric: m.metricId } }, h("b", {}, m.metricId), ` ${m.goal || ""}`);
  const fact = (term, attrs, ...value) => [h("dt", {}, term), h("dd", attrs, ...value)];
  return [
    h("h2", {}, "Study"),
    h(
      "dl",
      { class: "facts" },
      fact("Algorithm", { id: "algorithm" }, algorithm(job)),
      fact("Metrics", {}, h("ul", { class: "plain", id: "metrics" }, (spec.metrics || []).map(metric))),
      fact("Parameters", {}, h("ul", { class: "plain", id: "parameters" }, (spec.parameters || []).map(paramSpec))),
    ),
  ];
}

function trialsTable(job, best) {
  const trials = job.trials || [];
  if (!trials.length) return h("p", { class: "muted" }, "No trial has started yet.");
  // Conditional parameters appear in the trials only: a column for every id either names.
  const params = [...(job.studySpec?.parameters || []), ...trials.flatMap((t) => t.parameters || [])];
  const paramIds = [...new Set(params.map((p) => p.parameterId))];
  const metricIds = (job.studySpec?.metrics || []).map((m) => m.metricId);
  const bestBadge = h("span", { class: "badge best-badge" }, "Best");
  const customJob = (t) =>
    t.customJob && h("a", { href: `#/${t.customJob}`, class: "trial-job mono" }, jobId(t.customJob)); // its job page
  const row = (t) =>
    h(
      "tr",
      { dataset: { trialId: t.id }, class: t === best ? "best" : null },
      cell("Trial", {}, h("span", { class: "mono" }, t.id), t === best && bestBadge),
      cell("State", { class: "state", title: t.infeasibleReason || null }, stateBadge(t.state)),
      paramIds.map((id) => cell(id, { class: "mono", dataset: { param: id } }, shown(paramValue(t, id)))),
      metricIds.map((id) => cell(id, { class: "mono", dataset: { metric: id } }, shown(metricValue(t, id)))),
      cell("Custom job", {}, customJob(t)),
      cell("Duration", {}, t.endTime ? duration(t.startTime, t.endTime) : ""), // a redraw comes with a change only
    );
  const columns = ["Trial", "State", ...paramIds, ...metricIds, "Custom job", "Duration"];
  return table({ class: "jobs trials", id: "trials" }, columns, h("tbody", {}, trials.map(row)));
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children.flat(Infinity));
  return el;
}

// [lo, hi] around the values, never empty, with a little room at both ends.
function span(values) {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = hi > lo ? (hi - lo) * 0.08 : Math.max(Math.abs(lo) * 0.1, 1);
  return [lo - pad, hi + pad];
}

/** x = trial id, y = the trial's final value of the first metric; the best point stands out. */
function plot(job, best) {
  const metric = job.studySpec?.metrics?.[0];
  const points = (job.trials || [])
    .map((trial) => ({ trial, x: Number(trial.id), y: metric ? metricValue(trial, metric.metricId) : undefined }))
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
    .sort((a, b) => a.x - b.x);
  if (!points.length) return h("p", { class: "muted", id: "plot-empty" }, "No trial has a final measurement yet.");
  const [W, H, L, R, T, B] = [640, 240, 64, 16, 12, 36];
  const ys = points.map((p) => p.y);
  const [x0, x1] = span(points.map((p) => p.x));
  const [y0, y1] = span(ys);
  const px = (x) => (L + ((x - x0) / (x1 - x0)) * (W - L - R)).toFixed(1);
  const py = (y) => (H - B - ((y - y0) / (y1 - y0)) * (H - T - B)).toFixed(1);
  const every = Math.ceil(points.length / 16); // at most 16 trial ids under the axis
  const text = (attrs, content) => svg("text", { class: "tick", "text-anchor": "middle", ...attrs }, content);
  const yMid = (T + H - B) / 2;
  return svg(
    "svg",
    { id: "plot", class: "plot", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${metric.metricId} by trial` },
    svg("path", { class: "axis", d: `M${L},${T}V${H - B}H${W - R}` }),
    [...new Set([Math.min(...ys), Math.max(...ys)])].map((y) => [
      svg("path", { class: "grid", d: `M${L},${py(y)}H${W - R}` }),
      text({ x: L - 6, y: py(y), "text-anchor": "end", dy: "0.35em" }, shown(y)),
    ]),
    points.filter((_, i) => i % every === 0).map((p) => text({ x: px(p.x), y: H - B + 16 }, p.trial.id)),
    text({ class: "axis-label", x: (L + W - R) / 2, y: H - 4 }, "trial"),
    text({ class: "axis-label", x: 12, y: yMid, transform: `rotate(-90 12 ${yMid})` }, metric.metricId),
    svg("polyline", { class: "line", points: points.map((p) => `${px(p.x)},${py(p.y)}`).join(" ") }),
    points.map((p) => {
      const isBest = p.trial === best;
      const attrs = { cx: px(p.x), cy: py(p.y), r: isBest ? 6 : 4, "data-trial": p.trial.id };
      const label = `Trial ${p.trial.id}: ${metric.metricId} = ${shown(p.y)}${isBest ? " (best)" : ""}`;
      return svg("circle", { class: isBest ? "point best" : "point", ...attrs }, svg("title", {}, label));
    }),
  );
}

function tuningRow(job) {
  const link = h("a", { href: `#/${job.name}`, class: "job-link" }, job.displayName || jobId(job.name));
  return h(
    "tr",
    { dataset: { jobId: jobId(job.name) } },
    cell("Tuning job", {}, link, h("div", { class: "muted small mono" }, jobId(job.name))),
    cell("State", { class: "state" }, stateBadge(job.state)),
    cell("Trials", { class: "trial-count mono", title: "finished / maxTrialCount" }, trialCount(job)),
    cell("Algorithm", { class: "small" }, algorithm(job)),
    cell("Created", {}, h("span", { class: "nowrap" }, when(job.createTime))),
  );
}

export function mountTuningList(main, ctx) {
  mountResourceList(main, ctx, {
    title: "Hyperparameter tuning jobs",
    hash: tuningHash,
    list: listTuningJobs,
    field: "hyperparameterTuningJobs",
    id: "tuning-jobs",
    columns: LIST_COLUMNS,
    row: tuningRow,
    hint: 'state="JOB_STATE_RUNNING"',
    none: "No tuning jobs yet: the API or the SDK creates them.",
    noMatch: "No tuning job matches this filter.",
  });
}

export function mountTuningJob(main, ctx) {
  const back = tuningHash(ctx.scope);
  const title = h("h1", {});
  const subtitle = h("div", { class: "muted small mono" });
  const notice = h("p", { class: "notice", role: "status", id: "notice", hidden: true });
  const cancelButton = h("button", { id: "cancel", class: "danger", hidden: true, onclick: cancel }, "Cancel");
  const facts = h("section", { class: "card facts-card" });
  const errorSlot = h("div");
  const study = h("section", { class: "card", id: "study" });
  const plotCard = h("section", { class: "card", id: "plot-card" });
  const trialsCard = h("section", { class: "card", id: "trials-card" });
  let current = null;
  let built = false;
  let lastState = "";
  let drawnKey = "";
  fill(main, h("p", { class: "muted" }, "Loading…"));

  const say = (text, bad = false) => {
    Object.assign(notice, { hidden: !text, textContent: text });
    notice.classList.toggle("bad", bad);
  };

  async function cancel() {
    const what = `“${current.displayName}” starts no more trials, and its running trials are stopped.`;
    if (!(await confirmAction("Cancel this tuning job?", what, "Cancel job"))) return;
    try {
      await cancelTuningJob(ctx.name);
      say("Cancellation requested.");
      refresh();
    } catch (err) {
      say(err.message, true);
    }
  }

  function render(job) {
    current = job;
    fill(title, job.displayName, " ", stateBadge(job.state));
    subtitle.textContent = job.name;
    cancelButton.hidden = TERMINAL.has(job.state);
    const dl = h("dl", { class: "facts" });
    const add = (k, v) => dl.append(h("dt", {}, k), h("dd", {}, v || muted("—")));
    add("State", stateName(job.state));
    add("Job id", h("span", { class: "mono" }, jobId(job.name)));
    const parallel = `${trialCount(job)} (${job.parallelTrialCount || 1} at a time)`;
    add("Trials", h("span", { class: "mono", id: "trial-count" }, parallel));
    add("Created", when(job.createTime));
    add("Started", when(job.startTime));
    add("Ended", when(job.endTime));
    add("Duration", duration(job.startTime, job.endTime));
    fill(facts, dl);
    // The rest is redrawn only when it changes, so a click never lands on a replaced link.
    const key = JSON.stringify([job.state, job.error, job.trials]);
    if (key === drawnKey) return;
    drawnKey = key;
    const best = bestTrial(job);
    fill(errorSlot, errorBox(job));
    fill(study, studyCard(job));
    fill(plotCard, h("h2", {}, `${job.studySpec?.metrics?.[0]?.metricId || "Metric"} by trial`), plot(job, best));
    fill(trialsCard, h("h2", {}, "Trials ", best ? muted(`· best: trial ${best.id}`) : null), trialsTable(job, best));
  }

  async function refresh() {
    let job;
    try {
      job = await getJob(ctx.name, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) return;
      if (err.status !== 404) return void say(`Not updated: ${err.message}`, true);
      fill(main, h("p", { class: "error" }, err.message), h("a", { href: back }, "Back to the tuning jobs"));
      return false;
    }
    if (!built) {
      built = true;
      const head = h(
        "div",
        { class: "page-head job-head" },
        h("div", {}, h("a", { class: "back small", href: back }, "← All tuning jobs"), title, subtitle),
        h("div", { class: "actions" }, cancelButton),
      );
      fill(main, head, notice, facts, errorSlot, h("div", { class: "columns" }, study, plotCard), trialsCard);
    }
    render(job);
    const ended = TERMINAL.has(job.state) && TERMINAL.has(lastState);
    lastState = job.state;
    return !ended; // one more pass after the end, then the page is final
  }
  poll(refresh, POLL_MS, ctx.signal);
}
