// The data that flows read → plan → guard → act. Plain data only: no classes, no I/O. One module per step
// under types/; this one gathers them, so every module imports its data from one place.
export * from "./types/desired.js";
export * from "./types/live.js";
export * from "./types/policy.js";
export * from "./types/plan.js";
export * from "./types/act.js";
export type { ApprovalRule, CustomRuleName, GuardRule, HoldRule, OtherRule, RefusalRule, RuleId, RuntimeRule } from "./rules.js";
