// The tests a mutation run (`npm run test:mutation`, stryker.config.mjs) holds each mutant of the safety core
// to, gathered into one file: each mutant is a fresh vitest run, and every test file costs a worker and a
// fresh load of its dependencies (about a second), so one file instead of ten makes the run several times
// faster. The name does not end in .test.ts: `npm test` runs each of these files itself.
//
// Order matters: Stryker stops a mutant's run at the first failing test, so the quick tables come first and
// the property tests last; a mutant a table kills never pays for the properties.
import "../unit/holds/grace.test.js";
import "../unit/holds/notice.test.js";
import "../unit/holds/approval.test.js";
import "../unit/holds/reminder.test.js";
import "../unit/holds/window.test.js";
import "../unit/holds/suspension.test.js";
import "../unit/holds/tags.test.js";
import "../unit/gate.test.js";
import "../unit/gate-mutation.test.js";
import "../unit/gate-explain.test.js";
import "../unit/gate-index.test.js";
import "../unit/gate-approve.test.js";
import "../unit/gate-runtime.test.js";
import "../unit/gate-runtime-denials.test.js";
import "../unit/gate-runtime-verdict.test.js";
import "../unit/gate-budgets.test.js";
import "../unit/gate-verdict.test.js";
import "../unit/gate-lastlook.test.js";
import "../unit/gate-world.test.js";
import "../unit/guards.test.js";
import "../unit/guards-edges.test.js";
import "../unit/writes.test.js";
import "../unit/writes-start.test.js";
import "../unit/archive.test.js";
import "../unit/rfc3339.test.js";
import "../unit/answers.test.js";
import "../unit/answers-messages.test.js";
import "../unit/marks.test.js";
import "../unit/look.test.js";
import "../unit/plan.test.js";
import "../unit/plan-policy.test.js";
import "../unit/plan-runtime.test.js";
import "../unit/when.test.js";
import "../property/planner.property.test.js";
import "../property/gate.property.test.js";
