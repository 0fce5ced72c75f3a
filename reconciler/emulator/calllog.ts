// The call log: two events per request (received, answered), listeners, and waiting for an event.

/**
 * One event in the call log. Every request to the AWS API produces two: `received` when it arrives (its body
 * read, before any latency, fault delay or execution) and `answered` when its answer is sent. Both carry the
 * same `requestId` (also the answer's x-amzn-RequestId header, i.e. the SDK's `$metadata.requestId`).
 * `calls()` lists answered events only, so counting calls counts each request once; a test that must act
 * while a slow call is in flight waits for its `received` event (`waitForCall(c => c.phase === "received")`).
 */
export interface CallRecord {
  /** Increases with every event for the life of the emulator, across resetCalls(). */
  seq: number;
  /** The emulator clock when the event happened. */
  time: number;
  phase: CallPhase;
  requestId: string;
  operation: string;
  region: string;
  /** The caller's account (the default one unless it signed with assumed-role keys). */
  account?: string;
  /** The SourceIdentity of the assumed-role session that signed the call, if it set one (AWS CloudTrail shows it the same way). */
  sourceIdentity?: string;
  /** ARN or project name(s) the call was about, when the request named one. */
  target?: string;
  /** "ok" or the error __type once answered; "pending" while only received. */
  outcome: string;
  /** The HTTP status once answered; 0 while only received. */
  status: number;
}

export type CallPhase = "received" | "answered";

export class CallLog {
  /** Every event, both phases. */
  private log: CallRecord[] = [];
  private seq = 0;
  private readonly listeners = new Set<(c: CallRecord) => void>();
  private readonly pendingWaits = new Set<(err: Error) => void>();

  constructor(private readonly now: () => number) {}

  record(entry: Omit<CallRecord, "seq" | "time">): void {
    const rec: CallRecord = {
      seq: ++this.seq,
      time: this.now(),
      phase: entry.phase,
      requestId: entry.requestId,
      operation: entry.operation,
      region: entry.region,
      outcome: entry.outcome,
      status: entry.status,
    };
    if (entry.account !== undefined) rec.account = entry.account;
    if (entry.sourceIdentity !== undefined) rec.sourceIdentity = entry.sourceIdentity;
    if (entry.target !== undefined) rec.target = entry.target;
    this.log.push(rec);
    for (const listener of [...this.listeners]) {
      try {
        listener({ ...rec });
      } catch (err) {
        // A test's listener must not break the server; say so loudly instead.
        process.emitWarning(`emulator onCall listener threw: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }

  calls(phase: CallPhase | "all" = "answered"): CallRecord[] {
    return this.log.filter((c) => phase === "all" || c.phase === phase).map((c) => ({ ...c }));
  }

  count(operation?: string, outcome?: string): number {
    return this.log.filter(
      (c) => c.phase === "answered" && (operation === undefined || c.operation === operation) && (outcome === undefined || c.outcome === outcome),
    ).length;
  }

  reset(): void {
    this.log = [];
  }

  onCall(listener: (c: CallRecord) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  waitFor(predicate: (c: CallRecord) => boolean, timeoutMs = 10_000): Promise<CallRecord> {
    if (typeof predicate !== "function") return Promise.reject(new Error("waitForCall: predicate must be a function"));
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))
      return Promise.reject(new Error(`waitForCall: timeoutMs must be a positive number (got ${timeoutMs})`));
    return new Promise<CallRecord>((resolve, reject) => {
      let done = false;
      let unsubscribe = () => {};
      const finish = (err: Error | undefined, rec?: CallRecord) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        this.pendingWaits.delete(onClose);
        if (err) reject(err);
        else resolve(rec!);
      };
      const test = (c: CallRecord) => {
        try {
          if (predicate(c)) finish(undefined, { ...c });
        } catch (err) {
          finish(err as Error);
        }
      };
      const onClose = (err: Error) => finish(err);
      const timer = setTimeout(() => {
        finish(new Error(`waitForCall: no matching call within ${timeoutMs} ms; last events: ${describeEvents(this.log.slice(-10))}`));
      }, timeoutMs);
      this.pendingWaits.add(onClose);
      for (const c of this.log) {
        test(c);
        if (done) return;
      }
      unsubscribe = this.onCall(test);
    });
  }

  /** Rejects every pending wait: nothing more will be logged. */
  close(): void {
    for (const fail of [...this.pendingWaits]) fail(new Error("waitForCall: the emulator was closed before a matching call"));
  }
}

function describeEvents(events: CallRecord[]): string {
  if (events.length === 0) return "none";
  return events.map((c) => `#${c.seq} ${c.phase} ${c.operation}${c.target ? ` ${c.target}` : ""} → ${c.outcome}`).join("; ");
}
