// The web-access terminal: xterm.js in the page, a PTY on the server, a WebSocket between.
// Binary frames carry the terminal's bytes both ways; {"resize": [cols, rows]} follows the window.
import { FitAddon } from "../vendor/xterm/addon-fit.mjs";
import { Terminal } from "../vendor/xterm/xterm.mjs";

const [jobId, replica] = location.pathname.split("/").slice(-2);
const status = document.getElementById("term-status");
document.getElementById("term-title").textContent = `${replica} · job ${jobId}`;
document.title = `${replica} · job ${jobId}`;

const term = new Terminal({
  cursorBlink: true,
  fontFamily: '"DejaVu Sans Mono", "Menlo", "Consolas", monospace',
  fontSize: 14,
  lineHeight: 1.15,
  scrollback: 5000,
  theme: { background: "#0f172a", foreground: "#e2e8f0", cursor: "#38bdf8", selectionBackground: "#334155" },
});
const fit = new FitAddon();
term.loadAddon(fit);
term.open(document.getElementById("terminal"));
fit.fit();
window.customjobsTerminal = term; // for the browser tests: the screen as xterm.js holds it

const scheme = location.protocol === "https:" ? "wss" : "ws";
const url = `${scheme}://${location.host}${location.pathname}/ws?cols=${term.cols}&rows=${term.rows}`;
const socket = new WebSocket(url);
socket.binaryType = "arraybuffer";
const encoder = new TextEncoder();
const open = () => socket.readyState === WebSocket.OPEN;

socket.addEventListener("open", () => {
  status.textContent = "connected";
  status.dataset.state = "open";
  term.focus();
});
socket.addEventListener("message", (event) => {
  if (typeof event.data === "string") {
    const message = JSON.parse(event.data);
    if (message.error) term.write(`\r\n\x1b[31m${message.error}\x1b[0m\r\n`);
  } else {
    term.write(new Uint8Array(event.data));
  }
});
socket.addEventListener("close", () => {
  status.textContent = "closed";
  status.dataset.state = "closed";
  term.write("\r\n\x1b[2m[the shell has ended; reload the page for a new one]\x1b[0m\r\n");
});

term.onData((data) => open() && socket.send(encoder.encode(data)));
term.onBinary((data) => open() && socket.send(Uint8Array.from(data, (c) => c.charCodeAt(0))));
term.onResize(({ cols, rows }) => open() && socket.send(JSON.stringify({ resize: [cols, rows] })));
new ResizeObserver(() => fit.fit()).observe(document.getElementById("terminal"));
