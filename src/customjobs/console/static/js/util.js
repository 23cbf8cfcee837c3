// Timing helpers shared by the pages.

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** Call `fn` now and every `ms` while the page is shown, until `signal` aborts. */
export async function poll(fn, ms, signal) {
  while (!signal.aborted) {
    if (!document.hidden) {
      try {
        const again = await fn();
        if (again === false) return;
      } catch (err) {
        if (signal.aborted) return;
        console.warn("poll failed", err);
      }
    }
    await sleep(ms, signal);
  }
}
