// Where a field path (jobSpec.workerPoolSpecs[0].machineSpec.machineType) is in YAML text,
// so the server's field violations can point at lines of the user's config.
import { getScalarValue, load, parseEvents } from "../vendor/js-yaml/js-yaml.mjs";

const DOC = 1;
const SEQ = 2;
const MAP = 3;
const SCALAR = 4;
const POP = 6;

const camel = (key) => key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const join = (path, key) => (path ? `${path}.${key}` : key);
const startOf = (event) => (event.valueStart >= 0 ? event.valueStart : event.start ?? 0);

/** Map of camelCase path -> offset in `text` of the key (or sequence item) that starts it. */
export function yamlPositions(text) {
  const positions = new Map();
  let events;
  try {
    events = parseEvents(text);
  } catch {
    return positions;
  }
  const stack = [];
  for (const event of events) {
    if (event.type === DOC) {
      stack.push({ kind: "doc", path: "" });
      continue;
    }
    if (event.type === POP) {
      stack.pop();
      continue;
    }
    const top = stack.at(-1);
    if (!top) continue;
    let path;
    if (top.kind === "map" && top.key === null) {
      // This node is a key. Complex keys (a mapping as a key) get a placeholder path.
      top.key = event.type === SCALAR ? camel(getScalarValue(text, event)) : "?";
      if (event.type === SCALAR) positions.set(join(top.path, top.key), startOf(event));
      if (event.type !== MAP && event.type !== SEQ) continue;
      path = "?";
    } else if (top.kind === "map") {
      path = join(top.path, top.key);
      top.key = null;
    } else if (top.kind === "seq") {
      path = `${top.path}[${top.index++}]`;
      positions.set(path, startOf(event));
    } else {
      path = top.path;
    }
    if (event.type === MAP) stack.push({ kind: "map", path, key: null });
    else if (event.type === SEQ) stack.push({ kind: "seq", path, index: 0 });
  }
  return positions;
}

/** 1-based line of the offset. */
export const lineAt = (text, offset) => text.slice(0, offset).split("\n").length;

/**
 * The line for a path, or for its nearest ancestor present in the text (a missing required
 * field is reported where its parent is); null when nothing of it is there.
 */
export function locate(text, path) {
  const positions = yamlPositions(text);
  let probe = path;
  while (probe) {
    if (positions.has(probe)) return lineAt(text, positions.get(probe));
    const cut = Math.max(probe.lastIndexOf("."), probe.lastIndexOf("["));
    probe = cut > 0 ? probe.slice(0, cut) : "";
  }
  return null;
}

/** Parse YAML; a syntax error becomes {line, message}. */
export function parseYaml(text) {
  try {
    return { value: load(text) };
  } catch (err) {
    const line = err.mark && typeof err.mark.line === "number" ? err.mark.line + 1 : null;
    return { error: { line, message: err.reason || err.message } };
  }
}
