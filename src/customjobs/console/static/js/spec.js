// A CustomJobSpec shown two ways: readable (a card per worker pool) and as its JSON.
import { h } from "./dom.js";

const ROLES = ["primary", "workers", "parameter servers", "evaluators"];

function fact(label, value) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) {
    return null;
  }
  return [h("dt", {}, label), h("dd", {}, value)];
}

const code = (words) => h("code", { class: "argv" }, words.join(" "));

function poolCard(pool, index) {
  const machine = pool.machineSpec || {};
  const container = pool.containerSpec;
  const python = pool.pythonPackageSpec;
  const env = (container || python || {}).env || [];
  const accelerator = machine.acceleratorType
    ? `${machine.acceleratorCount || 1} × ${machine.acceleratorType}`
    : null;
  return h(
    "div",
    { class: "pool" },
    h("h3", {}, `workerpool${index}`, h("span", { class: "muted small" }, ` ${ROLES[index] || ""}`)),
    h(
      "dl",
      { class: "facts" },
      fact("Replicas", String(pool.replicaCount || 1)),
      fact("Machine", machine.machineType),
      fact("Accelerator", accelerator),
      fact("Image", container?.imageUri || python?.executorImageUri),
      fact("Command", container?.command?.length ? code(container.command) : null),
      fact("Args", (container || python)?.args?.length ? code((container || python).args) : null),
      fact("Python module", python?.pythonModule),
      fact("Packages", python?.packageUris?.join(", ")),
      fact("Disk", pool.diskSpec ? `${pool.diskSpec.bootDiskSizeGb || "?"} GB ${pool.diskSpec.bootDiskType || ""}` : null),
    ),
    env.length
      ? h(
          "table",
          { class: "env" },
          h("thead", {}, h("tr", {}, h("th", {}, "Variable"), h("th", {}, "Value"))),
          h("tbody", {}, env.map((e) => h("tr", {}, h("td", { class: "mono" }, e.name), h("td", { class: "mono" }, e.value || "")))),
        )
      : null,
  );
}

function readable(spec) {
  const pools = (spec.workerPoolSpecs || []).map((pool, i) =>
    pool && Object.keys(pool).length ? poolCard(pool, i) : null,
  );
  const flags = [
    spec.enableWebAccess && "web access",
    spec.enableDashboardAccess && "dashboard access",
  ].filter(Boolean);
  return h(
    "div",
    { class: "spec-readable" },
    h(
      "dl",
      { class: "facts" },
      fact("Timeout", spec.scheduling?.timeout),
      fact("Restart on worker restart", spec.scheduling?.restartJobOnWorkerRestart ? "yes" : null),
      fact("Output directory", spec.baseOutputDirectory?.outputUriPrefix),
      fact("Service account", spec.serviceAccount),
      fact("Network", spec.network),
      fact("Enabled", flags.length ? flags.join(", ") : null),
    ),
    h("div", { class: "pools" }, pools),
  );
}

/** The spec card, with a Readable / JSON switch. */
export function specPanel(spec) {
  const json = h("pre", { class: "json", id: "spec-json", hidden: true }, JSON.stringify(spec, null, 2));
  const view = readable(spec || {});
  const show = (asJson) => {
    json.hidden = !asJson;
    view.hidden = asJson;
    readableTab.setAttribute("aria-selected", String(!asJson));
    jsonTab.setAttribute("aria-selected", String(asJson));
  };
  const readableTab = h("button", { type: "button", class: "tab", role: "tab", onclick: () => show(false) }, "Readable");
  const jsonTab = h("button", { type: "button", class: "tab", role: "tab", id: "spec-json-tab", onclick: () => show(true) }, "JSON");
  const panel = h(
    "section",
    { class: "card spec" },
    h("div", { class: "card-head" }, h("h2", {}, "Spec"), h("div", { class: "tabs", role: "tablist" }, readableTab, jsonTab)),
    view,
    json,
  );
  show(false);
  return panel;
}
