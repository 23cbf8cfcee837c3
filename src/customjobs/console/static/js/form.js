// The new-job form: display name, labels, and the YAML `gcloud ai custom-jobs create --config`
// takes (a CustomJobSpec in camelCase; a whole CustomJob with jobSpec is accepted too).
// The server validates; its BadRequest field violations are shown on the fields they name.
import { ApiError, createJob } from "./api.js";
import { fill, h } from "./dom.js";
import { locate, parseYaml } from "./yamlpath.js";

const EXAMPLE = `# A CustomJobSpec, as for: gcloud ai custom-jobs create --config=job.yaml
workerPoolSpecs:
  - machineSpec:
      machineType: n1-standard-4
    replicaCount: 1
    containerSpec:
      imageUri: local/python
      command: [python3, -c, "print('hello from customjobs')"]
`;

const camel = (path) => path.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/** "team=ml, owner=me" -> {team: "ml", owner: "me"}; throws on a part without "=". */
export function parseLabels(text) {
  const labels = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf("=");
    if (at <= 0) throw new Error(`“${part}” is not key=value.`);
    labels[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return labels;
}

function field(id, label, control, hint) {
  const error = h("div", { class: "field-error", id: `${id}-error`, role: "alert" });
  return {
    error,
    control,
    el: h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint" }, hint) : null, error),
  };
}

export function mountForm(main, ctx) {
  const name = field("displayName", "Display name", h("input", { id: "displayName", name: "displayName", autocomplete: "off", spellcheck: false }));
  const labels = field(
    "labels",
    "Labels",
    h("input", { id: "labels", name: "labels", placeholder: "team=ml, owner=me", autocomplete: "off", spellcheck: false }),
    "Comma-separated key=value pairs, as gcloud's --labels.",
  );
  const gutter = h("div", { class: "gutter", "aria-hidden": "true" });
  const textarea = h("textarea", { id: "config", name: "config", rows: 16, spellcheck: false, wrap: "off" });
  textarea.value = EXAMPLE;
  const editor = h("div", { class: "editor" }, gutter, textarea);
  const config = field("config", "Config (YAML)", editor, "A CustomJobSpec in camelCase: workerPoolSpecs, scheduling, baseOutputDirectory, enableWebAccess…");
  config.control = textarea;
  const general = h("p", { class: "notice bad", id: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", id: "create" }, "Create job");
  let badLines = new Set();

  function paintGutter() {
    const count = textarea.value.split("\n").length;
    fill(gutter, Array.from({ length: count }, (_, i) => h("div", { class: badLines.has(i + 1) ? "bad" : null }, String(i + 1))));
    gutter.scrollTop = textarea.scrollTop;
  }
  textarea.addEventListener("input", paintGutter);
  textarea.addEventListener("scroll", () => (gutter.scrollTop = textarea.scrollTop));

  const fields = { displayName: name, labels, config };
  function clearErrors() {
    for (const f of Object.values(fields)) {
      fill(f.error);
      f.control.removeAttribute("aria-invalid");
    }
    general.hidden = true;
    badLines = new Set();
    paintGutter();
  }
  function show(key, message, line = null) {
    const f = fields[key];
    f.control.setAttribute("aria-invalid", "true");
    f.error.append(h("div", {}, line ? h("span", { class: "line-ref" }, `line ${line}`) : null, message));
    if (line) badLines.add(line);
  }
  function selectLine(line) {
    const lines = textarea.value.split("\n");
    const start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
    textarea.focus();
    textarea.setSelectionRange(start, start + lines[line - 1].length);
  }

  function showViolations(violations, wholeJob) {
    for (const v of violations) {
      const path = camel(String(v.field || "").replace(/^custom_job\.?/, ""));
      if (path.startsWith("displayName")) show("displayName", v.description);
      else if (path.startsWith("labels")) show("labels", v.description);
      else {
        const yamlPath = wholeJob ? path : path.replace(/^jobSpec\.?/, "");
        const line = yamlPath ? locate(textarea.value, yamlPath) : null;
        show("config", `${path || "config"}: ${v.description}`, line);
      }
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    clearErrors();
    let labelMap;
    try {
      labelMap = parseLabels(labels.control.value);
    } catch (err) {
      show("labels", err.message);
    }
    const parsed = parseYaml(textarea.value);
    if (parsed.error) show("config", `YAML: ${parsed.error.message}`, parsed.error.line);
    else if (!parsed.value || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
      show("config", "The config must be a YAML mapping (a CustomJobSpec).", 1);
    }
    if (textarea.getAttribute("aria-invalid") || labels.control.getAttribute("aria-invalid")) {
      paintGutter();
      return;
    }
    const doc = parsed.value;
    const wholeJob = "jobSpec" in doc || "job_spec" in doc;
    const job = wholeJob ? { ...doc } : { jobSpec: doc };
    if (name.control.value.trim() || !wholeJob) job.displayName = name.control.value.trim();
    if (Object.keys(labelMap).length || !wholeJob) job.labels = labelMap;
    submit.disabled = true;
    try {
      const created = await createJob(ctx.parent, job);
      location.hash = `#/${ctx.parent}/customJobs?created=${encodeURIComponent(created.name.split("/").pop())}`;
    } catch (err) {
      if (err instanceof ApiError && err.violations.length) showViolations(err.violations, wholeJob);
      else {
        general.hidden = false;
        general.textContent = err.message;
      }
      paintGutter();
      const first = [...badLines].sort((a, b) => a - b)[0];
      if (first) selectLine(first);
      else main.querySelector("[aria-invalid=true]")?.focus();
    } finally {
      submit.disabled = false;
    }
  }

  fill(
    main,
    h("div", { class: "page-head" }, h("h1", {}, "New custom job"), h("a", { class: "button ghost", href: `#/${ctx.parent}/customJobs` }, "Cancel")),
    h(
      "form",
      { class: "card job-form", id: "new-job", novalidate: true, onsubmit: onSubmit },
      h("p", { class: "muted small" }, `In ${ctx.parent}`),
      general,
      name.el,
      labels.el,
      config.el,
      h("div", { class: "form-actions" }, submit),
    ),
  );
  paintGutter();
  name.control.focus();
}
