// Act for `rekon approve`: send the approvals the gate made (gate/approve.ts), one TagResource each, through
// aws/writes.ts like every write. The clock is checked right before: an approval dated by a clock that is
// off AWS's by more than the bound would be compared with marks on the wrong time (rule clockSkew), so then
// none is sent.
import type { Logger } from "pino";
import type { RetryingRekognitionClient } from "../aws/client.js";
import { sendApproval } from "../aws/writes.js";
import type { Approved, ApprovalWrite } from "../gate/index.js";
import type { Target } from "../types.js";

export interface ApprovalResult {
  project: string;
  region: string;
  account: string;
  versionName: string;
  versionArn: string;
  /** The tag value written (or that would have been). */
  approvedAt: string;
  result: "accepted" | "failed" | "unknown" | "skipped";
  code?: string;
  error?: string;
  requestId?: string;
}

export async function sendApprovals(
  approvals: readonly Approved<ApprovalWrite>[],
  deps: { clientFor(t: Target): RetryingRekognitionClient; log: Logger; clockProblem: () => string | undefined; stop?: AbortSignal },
): Promise<ApprovalResult[]> {
  const out: ApprovalResult[] = [];
  for (const a of approvals) {
    const base = { project: a.project, region: a.region, account: a.account, versionName: a.versionName, versionArn: a.versionArn, approvedAt: a.value };
    const skew = deps.clockProblem();
    if (skew || deps.stop?.aborted) {
      out.push({ ...base, result: "skipped", ...(skew ? { code: "clockSkew", error: skew } : { error: "interrupted before it was sent" }) });
      continue;
    }
    const call = await sendApproval(a, { clientFor: deps.clientFor }, deps.stop ? { stop: deps.stop } : {});
    if (call.kind === "ok") {
      const requestId = (call.output as { $metadata?: { requestId?: string } })?.$metadata?.requestId;
      deps.log.info({ versionArn: a.versionArn, approvedAt: a.value }, "deletion approved");
      out.push({ ...base, result: "accepted", ...(requestId ? { requestId } : {}) });
    } else if (call.kind === "unknown") {
      out.push({ ...base, result: "unknown", code: call.error.code, error: call.error.message });
    } else {
      const e = call.error as { code?: string; message?: string };
      out.push({ ...base, result: "failed", ...(e.code ? { code: e.code } : {}), error: e.message ?? String(call.error) });
    }
  }
  return out;
}
