// The console's router: the location hash is a resource name, so every page is a link.
//   #/projects/P/locations/L/customJobs[?filter=..]   the job list
//   #/projects/P/locations/L/customJobs:new           the new-job form
//   #/projects/P/locations/L/customJobs/ID            one job
//   #/projects/P/locations/L/hyperparameterTuningJobs[?filter=..]   the tuning-job list
//   #/projects/P/locations/L/hyperparameterTuningJobs/ID            one tuning job and its trials
//   #/projects/P/locations/L/trainingPipelines[?filter=..]   the training-pipeline list
//   #/projects/P/locations/L/trainingPipelines/ID            one pipeline, its backing job and model
//   #/projects/P/locations/L/models[?filter=..]              the models, each as its default version
//   #/projects/P/locations/L/models/ID                       one model and its versions (ID: [A-Za-z0-9_-]+)
// Each page gets an AbortSignal that fires when the user leaves it (polls and streams stop).
import { fill, h } from "./dom.js";
import { mountForm } from "./form.js";
import { mountJob } from "./job.js";
import { mountList } from "./list.js";
import { modelsHash, mountModel, mountModelList } from "./models.js";
import { mountPipeline, mountPipelineList, pipelinesHash } from "./pipelines.js";
import { listHash, offerScopes, picked, remember, startScope } from "./scope.js";
import { mountTuningJob, mountTuningList, tuningHash } from "./tuning.js";

const COLLECTIONS = "customJobs|hyperparameterTuningJobs|trainingPipelines|models";
const ROUTE = new RegExp(
  `^#/projects/([^/]+)/locations/([^/:?]+)/(${COLLECTIONS})(?:(:new)|/([^/?]+))?(?:\\?(.*))?$`,
);
// The pages without a form: each collection's list and one resource's page, and the nav link of the list.
const PAGES = {
  hyperparameterTuningJobs: { list: mountTuningList, one: mountTuningJob, nav: "nav-tuning" },
  trainingPipelines: { list: mountPipelineList, one: mountPipeline, nav: "nav-pipelines" },
  models: { list: mountModelList, one: mountModel, nav: "nav-models" },
};

let leave = null;

function showScope(scope) {
  const form = document.getElementById("scope");
  form.project.value = scope.project;
  form.location.value = scope.location;
  document.getElementById("brand").href = listHash(scope);
  document.getElementById("nav-jobs").href = listHash(scope);
  document.getElementById("nav-tuning").href = tuningHash(scope);
  document.getElementById("nav-pipelines").href = pipelinesHash(scope);
  document.getElementById("nav-models").href = modelsHash(scope);
  document.getElementById("nav-new").href = `${listHash(scope)}:new`;
}

function route() {
  if (leave) leave.abort();
  leave = new AbortController();
  const main = document.getElementById("main");
  const match = ROUTE.exec(location.hash);
  if (!match) {
    const { signal } = leave;
    // A link that names no scope (`/`): open the remembered one, or the one with the newest job.
    startScope(signal).then((scope) => signal.aborted || location.replace(listHash(scope)));
    return;
  }
  const [, project, location_, collection, isNew, id, query] = match;
  const scope = { project, location: location_ };
  remember(scope);
  showScope(scope);
  offerScopes(scope, leave.signal);
  const parent = `projects/${project}/locations/${location_}`;
  const ctx = { scope, parent, query: new URLSearchParams(query || ""), signal: leave.signal };
  for (const link of document.querySelectorAll(".nav a")) link.classList.remove("active");
  try {
    const pages = PAGES[collection];
    if (pages) {
      // No form for these: studies, pipelines and models are created with the API, the SDK or the CLI.
      if (id) pages.one(main, { ...ctx, name: `${parent}/${collection}/${id}` });
      else {
        document.getElementById(pages.nav).classList.add("active");
        pages.list(main, ctx);
      }
    } else if (isNew) {
      document.getElementById("nav-new").classList.add("active");
      mountForm(main, ctx);
    } else if (id) {
      mountJob(main, { ...ctx, name: `${parent}/customJobs/${id}` });
    } else {
      document.getElementById("nav-jobs").classList.add("active");
      mountList(main, ctx);
    }
  } catch (err) {
    fill(main, h("p", { class: "error" }, String(err)));
  }
}

document.getElementById("scope").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  location.hash = listHash({ project: form.project.value.trim(), location: form.location.value.trim() });
});
document.getElementById("scope-pick").addEventListener("change", (event) => {
  const scope = picked(event.currentTarget);
  if (scope) location.hash = listHash(scope);
});
window.addEventListener("hashchange", route);
route();
