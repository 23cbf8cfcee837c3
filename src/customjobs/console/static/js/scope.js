// Which project and location the console shows. The link says (the hash names the scope,
// so a shared link carries it); without one, the last scope shown, kept in localStorage;
// on a first visit, the scope holding the newest job, so a user whose jobs are in another
// project is not greeted by an empty my-project. The picker offers every scope with jobs.
import { listScopes } from "./api.js";
import { fill, h } from "./dom.js";

const SCOPE_KEY = "customjobs.scope";
// Only where the server holds no job yet (or will not say where): Vertex's sample names.
const DEFAULT_SCOPE = { project: "my-project", location: "us-central1" };

export const listHash = ({ project, location }, query = "") =>
  `#/projects/${project}/locations/${location}/customJobs${query ? `?${query}` : ""}`;

const parentOf = ({ project, location }) => `projects/${project}/locations/${location}`;

export function remember(scope) {
  localStorage.setItem(SCOPE_KEY, JSON.stringify({ project: scope.project, location: scope.location }));
}

function remembered() {
  try {
    const saved = JSON.parse(localStorage.getItem(SCOPE_KEY) || "null");
    return saved?.project && saved?.location ? { project: saved.project, location: saved.location } : null;
  } catch {
    return null; // not JSON: as if nothing were remembered
  }
}

/** The scope to open when the link names none. */
export async function startScope(signal) {
  const saved = remembered();
  if (saved) return saved;
  try {
    const [newest] = (await listScopes(signal)).scopes || [];
    if (newest) return { project: newest.project, location: newest.location };
  } catch (err) {
    if (!signal.aborted) console.warn("could not list the scopes with jobs", err);
  }
  return DEFAULT_SCOPE;
}

/** Offer the scopes with jobs in #scope-pick (the shown one selected) and the fields' datalists. */
export async function offerScopes(current, signal) {
  let scopes;
  try {
    scopes = (await listScopes(signal)).scopes || [];
  } catch {
    return; // keep what the picker offered before; the list itself says what went wrong
  }
  if (signal.aborted) return;
  const here = parentOf(current);
  const known = scopes.some((s) => s.parent === here);
  const picker = document.getElementById("scope-pick");
  fill(
    picker,
    known ? null : h("option", { value: "", disabled: true }, scopes.length ? "Projects with jobs…" : "No jobs yet"),
    scopes.map((s) =>
      h("option", { value: s.parent, dataset: { project: s.project, location: s.location } }, label(s)),
    ),
  );
  picker.value = known ? here : "";
  const options = (values) => [...new Set(values)].map((value) => h("option", { value }));
  fill(document.getElementById("scope-projects"), options(scopes.map((s) => s.project)));
  fill(document.getElementById("scope-locations"), options(scopes.map((s) => s.location)));
}

const label = (s) => `${s.project} · ${s.location} (${s.jobCount} ${s.jobCount === 1 ? "job" : "jobs"})`;

/** The scope the user picked, or null for the placeholder. */
export function picked(picker) {
  const option = picker.selectedOptions[0];
  return option?.dataset.project ? { project: option.dataset.project, location: option.dataset.location } : null;
}
