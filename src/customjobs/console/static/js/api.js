// The public REST API, as the console uses it: Vertex's customJobs, hyperparameterTuningJobs,
// trainingPipelines and models methods and the server's own /customjobs/v1 log, event and scope
// endpoints. Nothing else is called.

/** A non-2xx answer: Google's error envelope, with BadRequest field violations if any. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.status || "";
    this.violations = [];
    for (const detail of error.details || []) {
      if (String(detail["@type"] || "").endsWith("google.rpc.BadRequest")) {
        this.violations.push(...(detail.fieldViolations || []));
      }
    }
  }
}

async function call(path, { method = "GET", body, signal } = {}) {
  const init = { method, signal, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { error: { message: text.slice(0, 500) } };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function listQuery({ filter = "", pageSize = 25, pageToken = "" } = {}) {
  const query = new URLSearchParams({ pageSize: String(pageSize) });
  if (filter) query.set("filter", filter);
  if (pageToken) query.set("pageToken", pageToken);
  return query;
}

export const listJobs = (parent, options, signal) => call(`/v1/${parent}/customJobs?${listQuery(options)}`, { signal });

/** One page of the scope's HyperparameterTuningJobs, newest first; the same filter and paging as listJobs. */
export const listTuningJobs = (scope, options, signal) =>
  call(`/v1/projects/${scope.project}/locations/${scope.location}/hyperparameterTuningJobs?${listQuery(options)}`, {
    signal,
  });

const scopePath = (scope) => `/v1/projects/${scope.project}/locations/${scope.location}`;

/** One page of the scope's TrainingPipelines, newest first; the same filter and paging as listJobs. */
export const listPipelines = (scope, options, signal) =>
  call(`${scopePath(scope)}/trainingPipelines?${listQuery(options)}`, { signal });

/** One page of the scope's Models, each as its default version. */
export const listModels = (scope, options, signal) => call(`${scopePath(scope)}/models?${listQuery(options)}`, { signal });

/** One page of a Model's versions (`name` without "@"), newest first. */
export const listModelVersions = (name, options, signal) =>
  call(`/v1/${name}:listVersions?${listQuery(options)}`, { signal });

export const getJob = (name, signal) => call(`/v1/${name}`, { signal });
export const createJob = (parent, job) => call(`/v1/${parent}/customJobs`, { method: "POST", body: job });
export const cancelJob = (name) => call(`/v1/${name}:cancel`, { method: "POST", body: {} });
export const deleteJob = (name) => call(`/v1/${name}`, { method: "DELETE" });
export const cancelTuningJob = (name) => call(`/v1/${name}:cancel`, { method: "POST", body: {} });
export const cancelPipeline = (name) => call(`/v1/${name}:cancel`, { method: "POST", body: {} });
export const jobEvents = (name, signal) => call(`/customjobs/v1/${name}/events`, { signal });
/** The projects and locations that hold jobs, the one with the newest job first. */
export const listScopes = (signal) => call("/customjobs/v1/scopes", { signal });

/**
 * Stream one replica's log from its first line, following it until the job ends.
 * `onText` receives decoded text chunks; resolves when the server ends the stream.
 */
export async function followLog(name, replica, onText, signal) {
  const query = new URLSearchParams({ replica, follow: "true" });
  const response = await fetch(`/customjobs/v1/${name}/logs?${query}`, { signal });
  if (!response.ok) {
    let body = {};
    try {
      body = await response.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, body);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    onText(decoder.decode(value, { stream: true }));
  }
  onText(decoder.decode());
}
