// The pieces every resource's list page shares: a table of rows, and the filtered, paged, live
// list itself (tuning jobs, training pipelines, models).
import { fill, h } from "./dom.js";
import { poll } from "./util.js";

const POLL_MS = 1000;

export const muted = (text) => h("span", { class: "muted" }, text);
export const cell = (label, attrs, ...content) => h("td", { "data-label": label, ...attrs }, ...content);
export const table = (attrs, columns, tbody) => {
  const head = h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c))));
  return h("div", { class: "table-wrap" }, h("table", attrs, head, tbody));
};

/**
 * The filtered, paged, live list of one collection, as the tuning-job list is:
 * {title, hash(scope, query), list(scope, options, signal), field (the response's array), id (the
 * table's), columns, row(item), hint (a filter example), none, noMatch (the empty-table texts)}.
 * Rows are redrawn only when the page's data changes, so a click never lands on a replaced link.
 */
export function mountResourceList(main, ctx, spec) {
  const filter = ctx.query.get("filter") || "";
  const tokens = [""]; // the token of each page visited so far; the last is the one shown
  let nextToken = "";
  let drawnKey = "";
  const hint = { placeholder: spec.hint, "aria-label": "Filter (Vertex filter syntax)" };
  const input = h("input", { id: "filter", type: "search", value: filter, spellcheck: false, ...hint });
  const filterError = h("p", { class: "field-error", id: "filter-error", role: "alert" });
  const rows = h("tbody");
  const status = h("span", { class: "muted small live", id: "live" });
  const page = (change) => () => (change(), refresh());
  const newer = h("button", { class: "ghost", id: "newer", onclick: page(() => tokens.pop()) }, "← Newer");
  const older = h("button", { class: "ghost", id: "older", onclick: page(() => tokens.push(nextToken)) }, "Older →");
  const search = (event) => {
    event.preventDefault();
    const wanted = input.value.trim();
    const target = spec.hash(ctx.scope, wanted ? new URLSearchParams({ filter: wanted }) : "");
    if (location.hash === target) refresh();
    else location.hash = target;
  };
  fill(
    main,
    h("div", { class: "page-head" }, h("h1", {}, spec.title)),
    h("form", { class: "filter", onsubmit: search }, input, h("button", { type: "submit" }, "Filter")),
    filterError,
    table({ class: "jobs", id: spec.id }, spec.columns, rows),
    h("div", { class: "pager" }, newer, older, status),
  );

  async function refresh() {
    let data;
    try {
      data = await spec.list(ctx.scope, { filter, pageToken: tokens.at(-1) }, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) return;
      if (err.status !== 400) return void (status.textContent = `Not updated: ${err.message}`);
      input.setAttribute("aria-invalid", "true");
      filterError.textContent = err.message;
      return false; // a bad filter stays bad: stop polling until the user changes it
    }
    const items = data[spec.field] || [];
    nextToken = data.nextPageToken || "";
    const key = JSON.stringify([tokens.length, items]);
    if (key !== drawnKey) {
      drawnKey = key;
      const empty = h("tr", { class: "empty" }, h("td", { colspan: spec.columns.length }, filter ? spec.noMatch : spec.none));
      fill(rows, items.length ? items.map(spec.row) : empty);
    }
    newer.disabled = tokens.length === 1;
    older.disabled = !nextToken;
    status.textContent = `Live · ${new Date().toLocaleTimeString()}`;
  }
  poll(refresh, POLL_MS, ctx.signal);
}
