// Rule ids: a closed set, so a typo is a compile error rather than a new id in plans, metrics labels,
// notifications and alerts. Custom rules (spec.rules) are the only open-ended ids, and only the policy
// loader can make one. Imports nothing, so every module (errors.ts included) can name them.

/** Why a guard keeps a version (it is not deletable, whatever the time). */
export type GuardRule =
  | "listed"
  | "identityMismatch"
  | "unknownStatus"
  | "inUse"
  | "copySource"
  | "copySourceUnknown"
  | "minAge"
  | "keepLatest"
  | "allowEmpty"
  | "accountNotAllowed"
  | "regionNotAllowed"
  | "nearMiss"
  | "tagsUnreadable"
  | "protectedTag"
  | "notRead"
  | "notArchivable";

/** Why a deletable version waits (a hold keeps its mark; time, a person or a notice lifts it). */
export type HoldRule = "gracePeriod" | "noticeNotDelivered" | "approvalRequired" | "window" | "suspended" | "markUnsigned" | "markForged";

/** Why a whole run is refused: nothing is deleted or marked. */
export type RefusalRule =
  "maxDeletesPerRun" | "maxDeletesPercent" | "accountNotAllowed" | "manifestsStale" | "notificationsUnavailable" | "clockSkew" | "confirmation";

/** Why a planned write was not carried out: the last look, a saved plan's checks, the run's inputs. */
export type ApprovalRule =
  | "notAuthorized"
  | "notPlanned"
  | "notRead"
  | "gone"
  | "changed"
  | "notStoppable"
  | "manifestsChanged"
  | "digestMismatch"
  | "notInSavedPlan"
  | "planExpired"
  | "planFromFuture"
  | "stale"
  | "notArchived";

/**
 * What else plans, explanations and notifications name: a listed version not found, invalid inputs, a failed read, a dry run's pending deletion, the
 * budgets line of explain. */
export type OtherRule = "missing" | "invalid" | "readFailed" | "pending" | "budgets";

/**
 * Why a listed version's running state is what it is: it cannot be started (an adapter, a failed model),
 * it runs at other units than declared, a start budget, or why a stop is planned.
 */
export type RuntimeRule = "notStartable" | "capacityDrift" | "maxInferenceUnits" | "maxStartsPerRun" | "outsideSchedule" | "notDeclaredRunning";

/** Every rule id rekon itself uses: a closed union, so a typo is a compile error, not a new id in plans, metrics or alerts. */
export type RuleId = GuardRule | HoldRule | RefusalRule | ApprovalRule | OtherRule | RuntimeRule;

declare const CUSTOM_RULE: unique symbol;
/** A custom rule's name (spec.rules[].name), the only open-ended rule id: made only by the policy loader (policy/cel.ts). */
export type CustomRuleName = string & { readonly [CUSTOM_RULE]: true };
