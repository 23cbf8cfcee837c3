// The job list: Vertex's filter grammar, paging by page token, and live updates by polling.
import { listJobs } from "./api.js";
import { fill, h } from "./dom.js";
import { duration, jobId, labelChips, stateBadge, when } from "./format.js";
import { poll } from "./util.js";

const POLL_MS = 1000;
const PAGE_SIZES = [10, 25, 50, 100];
const COLUMNS = ["Job", "State", "Labels", "Created", "Started", "Ended", "Duration"];
const FILTER_HINT = 'labels.team="ml" AND state="JOB_STATE_RUNNING"';

function listHash(scope, params) {
  const query = params.toString();
  return `#/projects/${scope.project}/locations/${scope.location}/customJobs${query ? `?${query}` : ""}`;
}

const time = (iso) => (iso ? h("span", { class: "nowrap" }, when(iso)) : null);

function row(job, created) {
  const id = jobId(job.name);
  const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
  return h(
    "tr",
    { dataset: { jobId: id }, class: id === created ? "created" : null },
    cell(
      "Job",
      h(
        "div",
        {},
        h("a", { href: `#/${job.name}`, class: "job-link" }, job.displayName || id),
        h("div", { class: "muted small mono" }, id),
      ),
    ),
    h("td", { "data-label": "State", class: "state" }, stateBadge(job.state)),
    cell("Labels", labelChips(job.labels)),
    cell("Created", time(job.createTime)),
    cell("Started", time(job.startTime)),
    cell("Ended", time(job.endTime)),
    cell("Duration", duration(job.startTime, job.endTime) || null),
  );
}

export function mountList(main, ctx) {
  const filter = ctx.query.get("filter") || "";
  const pageSize = Number(ctx.query.get("pageSize")) || 25;
  const created = ctx.query.get("created") || ""; // the job the form just made, highlighted
  const tokens = [""]; // the token of each page visited so far; the last is the one shown
  let nextToken = "";

  const filterInput = h("input", {
    id: "filter",
    type: "search",
    value: filter,
    placeholder: FILTER_HINT,
    spellcheck: false,
    "aria-label": "Filter (Vertex filter syntax)",
  });
  const filterError = h("p", { class: "field-error", id: "filter-error", role: "alert" });
  const tbody = h("tbody");
  const status = h("span", { class: "muted small live", id: "live" });
  const pageNo = h("span", { class: "page-no" });
  const newer = h("button", { class: "ghost", id: "newer", type: "button" }, "← Newer");
  const older = h("button", { class: "ghost", id: "older", type: "button" }, "Older →");
  const size = h(
    "select",
    { id: "page-size", "aria-label": "Jobs per page" },
    PAGE_SIZES.map((n) => h("option", { value: n, selected: n === pageSize }, `${n} per page`)),
  );

  const go = (params) => {
    const target = listHash(ctx.scope, params);
    if (location.hash === target) refresh();
    else location.hash = target;
  };
  const params = (changes) => {
    const p = new URLSearchParams({ filter, pageSize: String(pageSize), ...changes });
    if (!p.get("filter")) p.delete("filter");
    if (p.get("pageSize") === "25") p.delete("pageSize");
    return p;
  };

  fill(
    main,
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Custom jobs"),
      h("a", { class: "button", href: `${listHash(ctx.scope, new URLSearchParams())}:new` }, "New job"),
    ),
    h(
      "form",
      {
        class: "filter",
        onsubmit: (event) => {
          event.preventDefault();
          go(params({ filter: filterInput.value.trim() }));
        },
      },
      filterInput,
      h("button", { type: "submit" }, "Filter"),
      filter ? h("a", { class: "button ghost", href: listHash(ctx.scope, params({ filter: "" })) }, "Clear") : null,
    ),
    filterError,
    h(
      "div",
      { class: "table-wrap" },
      h("table", { class: "jobs" }, h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", {}, c)))), tbody),
    ),
    h("div", { class: "pager" }, newer, pageNo, older, size, status),
  );

  size.addEventListener("change", () => go(params({ pageSize: size.value })));
  newer.addEventListener("click", () => {
    tokens.pop();
    refresh();
  });
  older.addEventListener("click", () => {
    tokens.push(nextToken);
    refresh();
  });

  async function refresh() {
    let data;
    try {
      data = await listJobs(ctx.parent, { filter, pageSize, pageToken: tokens.at(-1) }, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) return;
      if (err.status === 400) {
        filterInput.setAttribute("aria-invalid", "true");
        filterError.textContent = err.message;
        fill(tbody);
        return false; // a bad filter stays bad: stop polling until the user changes it
      }
      status.textContent = `Not updated: ${err.message}`;
      return;
    }
    const jobs = data.customJobs || [];
    nextToken = data.nextPageToken || "";
    filterInput.removeAttribute("aria-invalid");
    filterError.textContent = "";
    if (jobs.length) fill(tbody, jobs.map((job) => row(job, created)));
    else {
      const text = filter ? "No job matches this filter." : "No jobs yet. Create one with “New job”.";
      fill(tbody, h("tr", { class: "empty" }, h("td", { colspan: COLUMNS.length }, text)));
    }
    newer.disabled = tokens.length === 1;
    older.disabled = !nextToken;
    pageNo.textContent = `Page ${tokens.length}`;
    status.textContent = `Live · ${new Date().toLocaleTimeString()}`;
  }

  poll(refresh, POLL_MS, ctx.signal);
}
