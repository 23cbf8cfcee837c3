// How the console shows states, times, durations and labels.
import { h } from "./dom.js";

export const TERMINAL = new Set([
  "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED",
  "PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED",
]);
export const CANCELLABLE = new Set(["JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING"]);
// A TrainingPipeline's states are a job's with another prefix: PIPELINE_STATE_RUNNING reads as JOB_STATE_RUNNING.
const bare = (state) => String(state || "JOB_STATE_UNSPECIFIED").replace(/^(JOB|PIPELINE)_STATE_/, "");

/** "JOB_STATE_RUNNING" (or "PIPELINE_STATE_RUNNING") -> "Running" */
export function stateName(state) {
  const word = bare(state).toLowerCase();
  return word.charAt(0).toUpperCase() + word.slice(1);
}

export function stateBadge(state) {
  const kind = state ? bare(state).toLowerCase() : "";
  return h("span", { class: `badge state-${kind}`, dataset: { state: state || "" } }, stateName(state));
}

const pad = (n) => String(n).padStart(2, "0");

/** An RFC 3339 time as local "YYYY-MM-DD HH:MM:SS"; "" when absent. */
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** "2h 03m", "4m 05s", "12.3s": from start to end, or to now while the job runs. */
export function duration(startIso, endIso) {
  if (!startIso) return "";
  const ms = (endIso ? new Date(endIso) : new Date()) - new Date(startIso);
  const s = Math.max(ms, 0) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(Math.floor(s % 60))}s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h ${pad(m % 60)}m`;
  return `${Math.floor(hours / 24)}d ${pad(hours % 24)}h`;
}

export function labelChips(labels) {
  const entries = Object.entries(labels || {});
  if (!entries.length) return h("span", { class: "muted" }, "—");
  return h(
    "span",
    { class: "chips" },
    entries.map(([k, v]) => h("span", { class: "chip", title: `${k}=${v}` }, `${k}: ${v}`)),
  );
}

/** The numeric id at the end of a job's resource name. */
export const jobId = (name) => String(name || "").split("/").pop();

// google.rpc.Code names, for a job's error.
const RPC_CODES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];
export const rpcCodeName = (code) => RPC_CODES[code] || `code ${code}`;
