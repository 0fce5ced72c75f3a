// Waiting on events, not on time: the first item of a growing list (log lines, received requests) that
// matches, looked for now and each time the list grows, with a generous bound that names what was awaited.

export function firstMatch<T>(items: readonly T[], waiters: Set<() => void>, pred: (x: T) => boolean, timeoutMs: number, onTimeout: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let seen = 0;
    const check = () => {
      for (; seen < items.length; seen++) {
        if (pred(items[seen]!)) {
          cleanup();
          resolve(items[seen]!);
          return;
        }
      }
    };
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${onTimeout()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(t);
      waiters.delete(check);
    };
    waiters.add(check);
    check();
  });
}
