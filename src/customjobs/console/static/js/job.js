// One job: its facts, error, web-access links, state timeline, spec, logs, Cancel and Delete.
import { cancelJob, deleteJob, getJob, jobEvents } from "./api.js";
import { confirmAction, fill, h } from "./dom.js";
import {
  CANCELLABLE,
  TERMINAL,
  duration,
  jobId,
  labelChips,
  rpcCodeName,
  stateBadge,
  stateName,
  when,
} from "./format.js";
import { logPanel, replicaNames } from "./logs.js";
import { specPanel } from "./spec.js";
import { poll } from "./util.js";

const POLL_MS = 1000;

function timeline(events) {
  if (!events.length) return h("p", { class: "muted" }, "No state changes recorded.");
  return h(
    "ol",
    { class: "timeline", id: "timeline" },
    events.map((e) =>
      h(
        "li",
        { dataset: { state: e.state } },
        stateBadge(e.state),
        h("time", { datetime: e.time }, when(e.time)),
        e.message ? h("span", { class: "muted" }, e.message) : null,
      ),
    ),
  );
}

function webAccess(job) {
  const uris = Object.entries(job.webAccessUris || {}).sort(([a], [b]) => a.localeCompare(b));
  const spec = job.jobSpec || {};
  if (!uris.length && !spec.enableWebAccess && !spec.enableDashboardAccess) return null;
  const body = uris.length
    ? h(
        "ul",
        { class: "links", id: "web-access" },
        uris.map(([key, uri]) =>
          h(
            "li",
            {},
            h("a", { href: uri, target: "_blank", rel: "noopener", dataset: { replica: key } },
              key.endsWith(":dashboard") ? `Dashboard (${key.split(":")[0]})` : `Shell into ${key}`),
          ),
        ),
      )
    : h("p", { class: "muted" }, "Shells and dashboards open here while the job runs.");
  return h("section", { class: "card" }, h("h2", {}, "Web access"), body);
}

/** The job's error, as a card; null without one. Tuning jobs' pages show theirs the same way. */
export function errorBox(job) {
  if (!job.error) return null;
  return h(
    "section",
    { class: "card error-card", id: "job-error" },
    h("h2", {}, "Error ", job.error.code ? h("span", { class: "muted small" }, `${rpcCodeName(job.error.code)} (code ${job.error.code})`) : null),
    h("pre", { class: "error-text" }, job.error.message || ""),
  );
}

export function mountJob(main, ctx) {
  const head = h("div", { class: "page-head job-head" });
  const facts = h("section", { class: "card facts-card" });
  const live = h("div", { class: "live-parts" });
  const events = h("section", { class: "card" });
  const notice = h("p", { class: "notice", role: "status", id: "notice", hidden: true });
  let built = false;
  let lastState = "";

  fill(main, h("p", { class: "muted" }, "Loading…"));

  const say = (text, bad = false) => {
    notice.hidden = !text;
    notice.textContent = text;
    notice.classList.toggle("bad", bad);
  };

  async function act(kind, job) {
    const cancel = kind === "cancel";
    const ok = await confirmAction(
      cancel ? "Cancel this job?" : "Delete this job?",
      cancel
        ? `“${job.displayName}” will be stopped: its replicas get SIGTERM, then SIGKILL.`
        : `“${job.displayName}”, its logs and its history will be removed for good.`,
      cancel ? "Cancel job" : "Delete job",
    );
    if (!ok) return;
    try {
      if (cancel) {
        await cancelJob(ctx.name);
        say("Cancellation requested.");
        refresh();
      } else {
        await deleteJob(ctx.name);
        location.hash = `#/${ctx.parent}/customJobs`;
      }
    } catch (err) {
      say(err.message, true);
    }
  }

  let current = null;
  let liveKey = "";
  const title = h("h1", {});
  const cancelButton = h("button", { id: "cancel", class: "danger", onclick: () => act("cancel", current) }, "Cancel");
  const deleteButton = h("button", { id: "delete", class: "ghost danger", onclick: () => act("delete", current) }, "Delete");
  const subtitle = h("div", { class: "muted small mono" });
  fill(
    head,
    h("div", {}, h("a", { class: "back small", href: `#/${ctx.parent}/customJobs` }, "← All jobs"), title, subtitle),
    h("div", { class: "actions" }, cancelButton, deleteButton),
  );

  function renderHead(job) {
    current = job;
    fill(title, job.displayName, " ", stateBadge(job.state));
    subtitle.textContent = job.name;
    cancelButton.disabled = !CANCELLABLE.has(job.state);
    deleteButton.disabled = !TERMINAL.has(job.state);
    const dl = h("dl", { class: "facts" });
    const add = (k, v) => dl.append(h("dt", {}, k), h("dd", {}, v || h("span", { class: "muted" }, "—")));
    add("State", stateName(job.state));
    add("Job id", h("span", { class: "mono" }, jobId(job.name)));
    add("Created", when(job.createTime));
    add("Started", when(job.startTime));
    add("Ended", when(job.endTime));
    add("Duration", duration(job.startTime, job.endTime));
    add("Labels", labelChips(job.labels));
    fill(facts, dl);
    // Links are rebuilt only when they change, so a click never lands on a replaced element.
    const key = JSON.stringify([job.error, job.webAccessUris, job.state]);
    if (key !== liveKey) {
      liveKey = key;
      fill(live, errorBox(job), webAccess(job));
    }
  }

  async function refresh() {
    let job;
    let history;
    try {
      [job, history] = await Promise.all([getJob(ctx.name, ctx.signal), jobEvents(ctx.name, ctx.signal)]);
    } catch (err) {
      if (ctx.signal.aborted) return;
      if (err.status === 404) {
        fill(main, h("p", { class: "error" }, err.message), h("a", { href: `#/${ctx.parent}/customJobs` }, "Back to the jobs"));
        return false;
      }
      say(`Not updated: ${err.message}`, true);
      return;
    }
    if (!built) {
      built = true;
      fill(
        main,
        head,
        notice,
        facts,
        live,
        h("div", { class: "columns" }, events, specPanel(job.jobSpec)),
        logPanel(ctx.name, replicaNames(job.jobSpec), ctx.signal),
      );
    }
    renderHead(job);
    fill(events, h("h2", {}, "State history"), timeline(history.events || []));
    const ended = TERMINAL.has(job.state) && TERMINAL.has(lastState);
    lastState = job.state;
    return !ended; // one more pass after the end, then the page is final
  }

  poll(refresh, POLL_MS, ctx.signal);
}
