// The planner process of P2 and P4: one plan pass (the same planPass as `rekon plan`), then reports wall
// time, peak RSS and the CPU time of the pure planner on the live state it read. Prints one JSON line.
// Usage: node bench/plan-pass.mjs MANIFESTS POLICY
import pino from "pino";
import { plan, versionsNeedingTags } from "../dist/reconciler/plan.js";
import { planPass } from "../dist/reconciler/reconcile.js";

const [manifests, policy] = process.argv.slice(2);
const log = pino({ level: "silent" });
const t0 = performance.now();
const pass = await planPass({ manifests: [manifests], policy, log });
const wallS = (performance.now() - t0) / 1000;
// Peak RSS of the pass itself, before the extra planner run below allocates a second plan.
const peakRssMb = process.resourceUsage().maxRSS / 1024;
// The planner alone, on the same inputs: pure and synchronous, so CPU time is what it costs.
const live = pass.live;
const cpu0 = process.cpuUsage();
plan(pass.desired, live, pass.policies ?? pass.policy, new Date(pass.plan.generatedAt));
const cpu = process.cpuUsage(cpu0);
pass.close();
// Tags are needed only where a guard reads them; the gate says which (versionsNeedingTags).
const tagReadsNeeded = versionsNeedingTags(pass.desired, live, pass.policies, new Date(pass.plan.generatedAt)).length;
const notOk = live.projects.filter((p) => p.status !== "ok").length;
process.stdout.write(
  JSON.stringify({ wallS, peakRssMb, plannerCpuS: (cpu.user + cpu.system) / 1e6, summary: pass.plan.summary, inferenceUnits: pass.plan.inferenceUnits, tagReadsNeeded, notOk }) + "\n",
);
