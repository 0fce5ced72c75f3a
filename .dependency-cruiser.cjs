// The architecture, as rules a machine checks (npm run lint, run by npm test's pretest and by CI).
// Imports point down: commands → reconcile/controller/apply → plan, gate, render → policy, inputs, aws →
// types/errors. Type-only imports count too: a cycle through types is still a cycle in the design.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes two modules one; split what they share into a module both import.",
      from: {},
      to: { circular: true },
    },
    {
      name: "pure-core",
      severity: "error",
      comment: "The planner, the gate and the policy rules decide on facts only: no files, no AWS SDK, no emulator, nothing that does I/O (directly or through another module).",
      from: { path: "^reconciler/plan\\.ts$|^reconciler/(gate|policy)/" },
      to: {
        reachable: true,
        path: "^(node:)?(fs|fs/promises|net|http|https|child_process)$|@aws-sdk|@smithy|^reconciler/(emulator|aws|controller|commands|inputs)/|^reconciler/(cli|reconcile|demo|diff|log|progress)\\.ts$|^reconciler/apply/",
      },
    },
    {
      name: "emulator-stands-alone",
      severity: "error",
      comment: "An emulator that reused rekon's code would agree with rekon's bugs.",
      from: { path: "^reconciler/emulator/" },
      to: { path: "^reconciler/", pathNot: "^reconciler/emulator/" },
    },
    {
      name: "writes-only-through-the-gate",
      severity: "error",
      comment: "Only aws/writes.ts builds write requests, and only the executor (apply/) sends them (through aws/writes.ts).",
      from: { pathNot: "^reconciler/apply/|^reconciler/aws/writes\\.ts$|^test/" },
      to: { path: "^reconciler/aws/writes\\.ts$" },
    },
    {
      name: "aws-io-only-in-aws",
      severity: "error",
      comment: "aws/ is the only AWS I/O: every other module (the executor, the commands, the controller) reaches AWS through it, so every call is rate-limited, retried, clock-checked and answer-checked. The emulator is a server and imports no SDK either.",
      from: { path: "^reconciler/", pathNot: "^reconciler/aws/" },
      to: { path: "@aws-sdk|@smithy" },
    },
    {
      name: "only-the-cli-is-the-cli",
      severity: "error",
      comment: "Nothing below the command line imports it (it imports them).",
      from: { pathNot: "^reconciler/(cli|bin)\\.ts$|^reconciler/commands/|^test/" },
      to: { path: "^reconciler/(cli\\.ts|commands/)" },
    },
    {
      name: "no-orphans",
      severity: "error",
      comment: "A module nothing imports is dead code.",
      from: { orphan: true, pathNot: "\\.d\\.ts$|^reconciler/bin\\.ts$|^reconciler/emulator/main\\.ts$" },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^dist/" },
  },
};
