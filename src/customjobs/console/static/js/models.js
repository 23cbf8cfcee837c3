// Models: the scope's registry, each model as its default version, and one model's page: the
// default version's fields and every version, with the TrainingPipeline that uploaded each.
import { getJob, listModelVersions, listModels } from "./api.js";
import { fill, h } from "./dom.js";
import { jobId, labelChips, when } from "./format.js";
import { pipelineLink } from "./pipelines.js";
import { cell, mountResourceList, muted, table } from "./resource_list.js";
import { poll } from "./util.js";

const POLL_MS = 2000;
const LIST_COLUMNS = ["Model", "Version", "Aliases", "Artifact URI", "Created", "Training pipeline"];
const VERSION_COLUMNS = ["Version", "Aliases", "Created", "Artifact URI", "Training pipeline"];
const VERSIONS_PAGE = 100;

export const modelsHash = (scope, query = "") =>
  `#/projects/${scope.project}/locations/${scope.location}/models${query ? `?${query}` : ""}`;

const aliasChips = (aliases) =>
  aliases?.length
    ? h("span", { class: "chips aliases" }, aliases.map((a) => h("span", { class: "chip alias", dataset: { alias: a } }, a)))
    : muted("—");
const uri = (text) => (text ? h("span", { class: "mono artifact-uri" }, text) : muted("—"));

function modelRow(m) {
  const id = jobId(m.name);
  return h(
    "tr",
    { dataset: { modelId: id } },
    cell(
      "Model",
      {},
      h("a", { href: `#/${m.name}`, class: "job-link" }, m.displayName || id),
      h("div", { class: "muted small mono" }, id),
    ),
    cell("Version", { class: "mono version" }, m.versionId || ""),
    cell("Aliases", {}, aliasChips(m.versionAliases)),
    cell("Artifact URI", {}, uri(m.artifactUri)),
    cell("Created", {}, h("span", { class: "nowrap" }, when(m.createTime))),
    cell("Training pipeline", {}, pipelineLink(m.trainingPipeline, { class: "mono pipeline-link" })),
  );
}

export function mountModelList(main, ctx) {
  mountResourceList(main, ctx, {
    title: "Models",
    hash: modelsHash,
    list: listModels,
    field: "models",
    id: "models",
    columns: LIST_COLUMNS,
    row: modelRow,
    hint: 'display_name="my-model"',
    none: "No models yet: a TrainingPipeline with modelToUpload, or models:upload, adds them.",
    noMatch: "No model matches this filter.",
  });
}

/** Every version of the model, newest first, across pages. */
async function allVersions(name, signal) {
  const versions = [];
  let pageToken = "";
  do {
    const data = await listModelVersions(name, { pageSize: VERSIONS_PAGE, pageToken }, signal);
    versions.push(...(data.models || []));
    pageToken = data.nextPageToken || "";
  } while (pageToken);
  return versions;
}

function versionsTable(versions, defaultId) {
  if (!versions.length) return muted("No versions.");
  const row = (v) =>
    h(
      "tr",
      { dataset: { versionId: v.versionId }, class: v.versionId === defaultId ? "default" : null },
      cell("Version", { class: "mono version" }, v.versionId),
      cell("Aliases", {}, aliasChips(v.versionAliases)),
      cell("Created", {}, h("span", { class: "nowrap" }, when(v.versionCreateTime || v.createTime))),
      cell("Artifact URI", {}, uri(v.artifactUri)),
      cell("Training pipeline", {}, pipelineLink(v.trainingPipeline, { class: "mono pipeline-link" })),
    );
  return table({ class: "jobs versions", id: "versions" }, VERSION_COLUMNS, h("tbody", {}, versions.map(row)));
}

export function mountModel(main, ctx) {
  const back = modelsHash(ctx.scope);
  const title = h("h1", {});
  const subtitle = h("div", { class: "muted small mono" });
  const notice = h("p", { class: "notice", role: "status", id: "notice", hidden: true });
  const facts = h("section", { class: "card facts-card", id: "model-facts" });
  const versionsCard = h("section", { class: "card", id: "versions-card" });
  let built = false;
  let drawnKey = "";
  fill(main, h("p", { class: "muted" }, "Loading…"));

  const say = (text, bad = false) => {
    Object.assign(notice, { hidden: !text, textContent: text });
    notice.classList.toggle("bad", bad);
  };

  function render(model, versions) {
    // Redrawn only when something changes, so a click never lands on a replaced link.
    const key = JSON.stringify([model, versions]);
    if (key === drawnKey) return;
    drawnKey = key;
    fill(title, model.displayName || jobId(model.name), " ", muted(`version ${model.versionId}`));
    subtitle.textContent = model.name;
    const dl = h("dl", { class: "facts" });
    const add = (k, attrs, v) => dl.append(h("dt", {}, k), h("dd", attrs, v || muted("—")));
    add("Model id", { class: "mono" }, jobId(model.name));
    add("Default version", { class: "mono", id: "default-version" }, model.versionId);
    add("Aliases", {}, aliasChips(model.versionAliases));
    add("Container image", { class: "mono", id: "container-image" }, model.containerSpec?.imageUri);
    add("Artifact URI", { id: "artifact-uri" }, uri(model.artifactUri));
    add("Training pipeline", {}, pipelineLink(model.trainingPipeline, { id: "pipeline-link" }));
    add("Created", {}, when(model.createTime));
    add("Version created", {}, when(model.versionCreateTime));
    add("Labels", { id: "labels" }, labelChips(model.labels));
    if (model.description) add("Description", {}, model.description);
    fill(facts, h("h2", {}, "Default version"), dl);
    fill(versionsCard, h("h2", {}, "Versions ", muted(`· ${versions.length}`)), versionsTable(versions, model.versionId));
  }

  async function refresh() {
    let model;
    let versions;
    try {
      [model, versions] = await Promise.all([getJob(ctx.name, ctx.signal), allVersions(ctx.name, ctx.signal)]);
    } catch (err) {
      if (ctx.signal.aborted) return;
      if (err.status !== 404) return void say(`Not updated: ${err.message}`, true);
      fill(main, h("p", { class: "error" }, err.message), h("a", { href: back }, "Back to the models"));
      return false;
    }
    say("");
    if (!built) {
      built = true;
      const head = h(
        "div",
        { class: "page-head job-head" },
        h("div", {}, h("a", { class: "back small", href: back }, "← All models"), title, subtitle),
      );
      fill(main, head, notice, facts, versionsCard);
    }
    render(model, versions);
  }
  poll(refresh, POLL_MS, ctx.signal);
}
