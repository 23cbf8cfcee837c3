// TrainingPipelines: the scope's list, and one pipeline's page: its state and times, its error, what
// its training task runs, links to its backing CustomJob and to the Model it uploaded, and Cancel.
// Live by polling; the list is resource_list.js's.
import { cancelPipeline, getJob, listPipelines } from "./api.js";
import { confirmAction, fill, h } from "./dom.js";
import { TERMINAL, duration, jobId, labelChips, stateBadge, stateName, when } from "./format.js";
import { errorBox } from "./job.js";
import { cell, mountResourceList, muted } from "./resource_list.js";
import { poll } from "./util.js";

const POLL_MS = 1000;
const LIST_COLUMNS = ["Training pipeline", "State", "Model", "Created"];

export const pipelinesHash = (scope, query = "") =>
  `#/projects/${scope.project}/locations/${scope.location}/trainingPipelines${query ? `?${query}` : ""}`;

/** "name · version 2": the Model a pipeline uploaded, linked to its page; null before the upload. */
export function modelLink(model, attrs = {}) {
  if (!model?.name) return null;
  const version = model.versionId ? ` · version ${model.versionId}` : "";
  return h("a", { href: `#/${model.name}`, ...attrs }, `${model.displayName || jobId(model.name)}${version}`);
}

/** A link to a pipeline's page, by its id; null without one. */
export const pipelineLink = (name, attrs = {}) =>
  name ? h("a", { href: `#/${name}`, class: "mono", ...attrs }, jobId(name)) : null;

function pipelineRow(p) {
  const id = jobId(p.name);
  const model = p.modelToUpload;
  const pending = model ? muted(`${model.displayName || "model"} (not uploaded yet)`) : muted("—");
  return h(
    "tr",
    { dataset: { pipelineId: id } },
    cell(
      "Training pipeline",
      {},
      h("a", { href: `#/${p.name}`, class: "job-link" }, p.displayName || id),
      h("div", { class: "muted small mono" }, id),
    ),
    cell("State", { class: "state" }, stateBadge(p.state)),
    cell("Model", { class: "model" }, modelLink(model, { class: "model-link" }) || pending),
    cell("Created", {}, h("span", { class: "nowrap" }, when(p.createTime))),
  );
}

export function mountPipelineList(main, ctx) {
  mountResourceList(main, ctx, {
    title: "Training pipelines",
    hash: pipelinesHash,
    list: listPipelines,
    field: "trainingPipelines",
    id: "pipelines",
    columns: LIST_COLUMNS,
    row: pipelineRow,
    hint: 'state="PIPELINE_STATE_RUNNING"',
    none: "No training pipelines yet: the API or the SDK's CustomTrainingJob classes create them.",
    noMatch: "No training pipeline matches this filter.",
  });
}

/** What one worker pool runs: its machine, its replica count, and its image or Python module. */
function workerPool(pool, index) {
  const machine = pool.machineSpec || {};
  const accel = machine.acceleratorType ? ` + ${machine.acceleratorCount || 1} × ${machine.acceleratorType}` : "";
  const dl = h("dl", { class: "facts" });
  const add = (k, attrs, v) => dl.append(h("dt", {}, k), h("dd", attrs, v || muted("—")));
  add("Machine", { class: "mono machine-type" }, `${machine.machineType || ""}${accel}`);
  add("Replicas", { class: "mono replica-count" }, String(pool.replicaCount ?? 0));
  if (pool.pythonPackageSpec) {
    const pkg = pool.pythonPackageSpec;
    add("Executor image", { class: "mono image" }, pkg.executorImageUri);
    add("Python module", { class: "mono python-module" }, pkg.pythonModule);
    if (pkg.args?.length) add("Args", { class: "mono" }, h("span", { class: "argv" }, pkg.args.join(" ")));
  } else {
    const container = pool.containerSpec || {};
    add("Image", { class: "mono image" }, container.imageUri);
    const argv = [...(container.command || []), ...(container.args || [])];
    if (argv.length) add("Command", { class: "mono" }, h("span", { class: "argv" }, argv.join(" ")));
  }
  return h("div", { class: "pool", dataset: { pool: index } }, h("h3", {}, `Worker pool ${index}`), dl);
}

function taskCard(p) {
  const inputs = p.trainingTaskInputs || {};
  const pools = inputs.workerPoolSpecs || [];
  const definition = String(p.trainingTaskDefinition || "").split("/").pop();
  return [
    h("h2", {}, "Training task ", definition ? muted(`· ${definition}`) : null),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Output directory"),
      h("dd", { class: "mono", id: "output-dir" }, inputs.baseOutputDirectory?.outputUriPrefix || muted("—")),
    ),
    pools.length
      ? h("div", { class: "pools", id: "worker-pools" }, pools.map((pool, i) => (pool ? workerPool(pool, i) : null)))
      : muted("No worker pools."),
  ];
}

function outputsCard(p) {
  const backing = p.trainingTaskMetadata?.backingCustomJob;
  const model = p.modelToUpload;
  const dl = h("dl", { class: "facts" });
  const add = (k, v) => dl.append(h("dt", {}, k), h("dd", {}, v || muted("—")));
  // The backing job opens on the job page: #/projects/P/locations/L/customJobs/ID.
  add("Custom job", backing && h("a", { href: `#/${backing}`, id: "backing-job", class: "mono" }, jobId(backing)));
  const notYet = model ? muted(`${model.displayName || "model"}: uploaded when the training succeeds`) : null;
  add("Model", modelLink(model, { id: "model-link" }) || notYet || muted("none (no modelToUpload)"));
  if (p.parentModel) add("Parent model", h("a", { href: `#/${p.parentModel}`, class: "mono" }, jobId(p.parentModel)));
  if (model?.containerSpec?.imageUri) add("Serving image", h("span", { class: "mono" }, model.containerSpec.imageUri));
  return [h("h2", {}, "Outputs"), dl];
}

export function mountPipeline(main, ctx) {
  const back = pipelinesHash(ctx.scope);
  const title = h("h1", {});
  const subtitle = h("div", { class: "muted small mono" });
  const notice = h("p", { class: "notice", role: "status", id: "notice", hidden: true });
  const cancelButton = h("button", { id: "cancel", class: "danger", hidden: true, onclick: cancel }, "Cancel");
  const facts = h("section", { class: "card facts-card" });
  const errorSlot = h("div");
  const outputs = h("section", { class: "card", id: "outputs" });
  const task = h("section", { class: "card", id: "task" });
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
    const what = `“${current.displayName}” stops: its backing CustomJob is cancelled, and no model is uploaded.`;
    if (!(await confirmAction("Cancel this training pipeline?", what, "Cancel pipeline"))) return;
    try {
      await cancelPipeline(ctx.name);
      say("Cancellation requested.");
      refresh();
    } catch (err) {
      say(err.message, true);
    }
  }

  function render(p) {
    current = p;
    fill(title, p.displayName, " ", stateBadge(p.state));
    subtitle.textContent = p.name;
    cancelButton.hidden = TERMINAL.has(p.state);
    const dl = h("dl", { class: "facts" });
    const add = (k, v) => dl.append(h("dt", {}, k), h("dd", {}, v || muted("—")));
    add("State", stateName(p.state));
    add("Pipeline id", h("span", { class: "mono" }, jobId(p.name)));
    add("Created", when(p.createTime));
    add("Started", when(p.startTime));
    add("Ended", when(p.endTime));
    add("Duration", duration(p.startTime, p.endTime));
    add("Labels", labelChips(p.labels));
    fill(facts, dl);
    // The rest is redrawn only when it changes, so a click never lands on a replaced link.
    const key = JSON.stringify([p.state, p.error, p.trainingTaskMetadata, p.modelToUpload, p.trainingTaskInputs]);
    if (key === drawnKey) return;
    drawnKey = key;
    fill(errorSlot, errorBox(p));
    fill(outputs, outputsCard(p));
    fill(task, taskCard(p));
  }

  async function refresh() {
    let p;
    try {
      p = await getJob(ctx.name, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) return;
      if (err.status !== 404) return void say(`Not updated: ${err.message}`, true);
      fill(main, h("p", { class: "error" }, err.message), h("a", { href: back }, "Back to the training pipelines"));
      return false;
    }
    if (!built) {
      built = true;
      const head = h(
        "div",
        { class: "page-head job-head" },
        h("div", {}, h("a", { class: "back small", href: back }, "← All training pipelines"), title, subtitle),
        h("div", { class: "actions" }, cancelButton),
      );
      fill(main, head, notice, facts, errorSlot, h("div", { class: "columns" }, outputs, task));
    }
    render(p);
    const ended = TERMINAL.has(p.state) && TERMINAL.has(lastState);
    lastState = p.state;
    return !ended; // one more pass after the end, then the page is final
  }
  poll(refresh, POLL_MS, ctx.signal);
}
