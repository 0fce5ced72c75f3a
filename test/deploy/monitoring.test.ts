// deploy/monitoring: the alert rules pass `promtool check rules` and their unit tests (`promtool test
// rules`), a broken rule makes those tests fail, the PrometheusRule carries exactly the same groups and
// passes the Prometheus Operator's schema, and every query in the rules and in the Grafana dashboard is
// valid PromQL that names only metrics a live `rekon run` exports.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { ROOT } from "../helpers/run-cli.js";
import { runPromtool, skipWithoutPromtool } from "../ops/promtool.js";
import { exportedNames, liveScrape, metricNames } from "../ops/scrape.js";

const MON = join(ROOT, "deploy/monitoring");
type Rule = { alert?: string; record?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> };
const rules = parse(readFileSync(join(MON, "rekon.rules.yaml"), "utf8")) as { groups: { name: string; rules: Rule[] }[] };
const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);
const dashboard = JSON.parse(readFileSync(join(MON, "grafana-dashboard.json"), "utf8")) as {
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; type: string; query: unknown }[] };
};
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })));

describe("alert rules", () => {
  it("promtool check rules", async (ctx) => {
    skipWithoutPromtool(ctx, "promtool check rules");
    const r = await runPromtool(["check", "rules", "rekon.rules.yaml"], undefined, MON);
    expect(r.out).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(alerts.length).toBe(12);
    expect(r.code).toBe(0);
  });

  it("promtool test rules: every alert fires when it should and stays quiet otherwise", async (ctx) => {
    skipWithoutPromtool(ctx, "promtool test rules");
    const r = await runPromtool(["test", "rules", "rekon.rules.test.yaml"], undefined, MON);
    expect(r.out).toContain("SUCCESS");
    expect(r.code).toBe(0);
    // Each alert has a firing case and a quiet one.
    const tests = parse(readFileSync(join(MON, "rekon.rules.test.yaml"), "utf8")) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const g of rules.groups) for (const rule of g.rules) {
      expect(cases.some((c) => c.alertname === rule.alert && c.exp_alerts.length > 0), `${rule.alert} fires somewhere`).toBe(true);
      expect(cases.some((c) => c.alertname === rule.alert && c.exp_alerts.length === 0), `${rule.alert} is quiet somewhere`).toBe(true);
    }
  });

  it("the unit tests catch a broken rule (no successful cycle after 2 intervals instead of 3)", async (ctx) => {
    skipWithoutPromtool(ctx, "promtool test rules (mutation)");
    const tmp = mkdtempSync(join(tmpdir(), "rekon-rules-"));
    try {
      cpSync(join(MON, "rekon.rules.test.yaml"), join(tmp, "rekon.rules.test.yaml"));
      const text = readFileSync(join(MON, "rekon.rules.yaml"), "utf8");
      expect(text).toContain("> 3 * rekon_reconcile_interval_seconds");
      writeFileSync(join(tmp, "rekon.rules.yaml"), text.replaceAll("> 3 * rekon_reconcile_interval_seconds", "> 2 * rekon_reconcile_interval_seconds"));
      const r = await runPromtool(["test", "rules", "rekon.rules.test.yaml"], undefined, tmp);
      expect(r.code).not.toBe(0);
      expect(r.out).toContain("RekonNoSuccessfulCycle");
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("every alert has a severity, and one or more page (critical)", () => {
    for (const a of alerts) expect(["critical", "warning"], a.alert).toContain(a.labels?.severity);
    expect(alerts.filter((a) => a.labels!.severity === "critical").map((a) => a.alert).sort()).toEqual(["RekonAuditWritesFailing", "RekonWritesNotSettling"]);
  });

  it("every alert has a runbook_url pointing at a section of docs/runbooks.md that exists, one section per alert", () => {
    const doc = readFileSync(join(ROOT, "docs/runbooks.md"), "utf8");
    // GitHub's anchors: a heading lower-cased, punctuation dropped, spaces to hyphens.
    const anchors = new Set([...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replaceAll(" ", "-")));
    for (const a of alerts) {
      const url = a.annotations?.runbook_url;
      expect(url, a.alert).toMatch(/^https:\/\/github\.com\/[\w.-]+\/rekon\/blob\/main\/docs\/runbooks\.md#[a-z0-9-]+$/);
      expect(anchors.has(url!.split("#")[1]!), `${a.alert}: ${url}`).toBe(true);
      expect(url!.split("#")[1]).toBe(a.alert!.toLowerCase());
    }
    // A section for each alert, and no section for an alert that does not exist.
    const sections = [...doc.matchAll(/^## (Rekon\w+)$/gm)].map((m) => m[1]);
    expect(sections.sort()).toEqual(alerts.map((a) => a.alert).sort());
  });

  it("the new alerts fire in their unit tests: audit writes failing, sustained throttling, writes not settling", async (ctx) => {
    skipWithoutPromtool(ctx, "promtool test rules (new alerts, broken)");
    // Break each new alert's threshold so it cannot fire: the unit tests must notice every one.
    const tmp = mkdtempSync(join(tmpdir(), "rekon-rules-"));
    try {
      cpSync(join(MON, "rekon.rules.test.yaml"), join(tmp, "rekon.rules.test.yaml"));
      const text = readFileSync(join(MON, "rekon.rules.yaml"), "utf8");
      const broken = [["[10m])) > 0\n", "[10m])) > 1000\n"], ["[10m])) > 0.2", "[10m])) > 0.9"], ['[1h])) >= 5', "[1h])) >= 500"]];
      let mutated = text;
      for (const [from, to] of broken) {
        expect(mutated).toContain(from);
        mutated = mutated.replace(from!, to!);
      }
      writeFileSync(join(tmp, "rekon.rules.yaml"), mutated);
      const r = await runPromtool(["test", "rules", "rekon.rules.test.yaml"], undefined, tmp);
      expect(r.code).not.toBe(0);
      for (const name of ["RekonAuditWritesFailing", "RekonThrottlingSustained", "RekonWritesNotSettling"]) expect(r.out).toContain(name);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("the unit tests catch a broken RekonInferenceUnitsAboveDesired (running compared with a tenth of desired)", async (ctx) => {
    skipWithoutPromtool(ctx, "promtool test rules (inference units, broken)");
    const tmp = mkdtempSync(join(tmpdir(), "rekon-rules-"));
    try {
      cpSync(join(MON, "rekon.rules.test.yaml"), join(tmp, "rekon.rules.test.yaml"));
      const text = readFileSync(join(MON, "rekon.rules.yaml"), "utf8");
      const from = '> max by (namespace, job, project, account, region) (rekon_inference_units{state="desired"})';
      expect(text).toContain(from);
      writeFileSync(join(tmp, "rekon.rules.yaml"), text.replace(from, from.replace("> max", "> 0.1 * max")));
      const r = await runPromtool(["test", "rules", "rekon.rules.test.yaml"], undefined, tmp);
      expect(r.code).not.toBe(0);
      expect(r.out).toContain("RekonInferenceUnitsAboveDesired");
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("the PrometheusRule has exactly the rule file's groups and passes the Prometheus Operator's schema", () => {
    const doc = parse(readFileSync(join(MON, "prometheusrule.yaml"), "utf8"));
    expect(doc.spec).toEqual(rules);
    expect(() => new PrometheusRule(doc).validate()).not.toThrow();
    // The schema check can fail: a rule without expr is rejected.
    const broken = structuredClone(doc);
    delete broken.spec.groups[0].rules[0].expr;
    expect(() => new PrometheusRule(broken).validate()).toThrow(/expr/);
  });
});

describe("the ServiceMonitor", () => {
  const sm = parse(readFileSync(join(MON, "servicemonitor.yaml"), "utf8"));
  const k8sDocs = parseAllDocuments(readFileSync(join(ROOT, "deploy/k8s/deployment.yaml"), "utf8")).map((d) => d.toJS());
  const service = k8sDocs.find((d) => d.kind === "Service");
  const deployment = k8sDocs.find((d) => d.kind === "Deployment");

  it("passes the Prometheus Operator's schema, and the check can fail", () => {
    expect(() => new ServiceMonitor(sm).validate()).not.toThrow();
    const broken = structuredClone(sm);
    broken.spec.endpoints[0].interval = "every minute";
    expect(() => new ServiceMonitor(broken).validate()).toThrow(/interval/);
  });

  it("selects the rekon-metrics Service in its namespace and scrapes its named port at /metrics, which is rekon's --listen port", () => {
    expect(sm.metadata.namespace).toBe(service.metadata.namespace);
    expect(sm.spec.namespaceSelector.matchNames).toEqual([service.metadata.namespace]);
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(service.metadata.labels[k], k).toBe(v);
    const ep = sm.spec.endpoints[0];
    expect(ep.path).toBe("/metrics");
    const port = service.spec.ports.find((p: { name: string }) => p.name === ep.port);
    expect(port, `a Service port named ${ep.port}`).toBeDefined();
    const rekon = deployment.spec.template.spec.containers.find((c: { name: string }) => c.name === "rekon");
    const target = rekon.ports.find((p: { name: string }) => p.name === port.targetPort);
    expect(rekon.args).toContain(`--listen=:${target.containerPort}`);
  });
});

describe("queries name only what rekon exports", () => {
  let exported: Set<string>;
  beforeAll(async () => {
    exported = exportedNames(await liveScrape());
  }, 40_000);

  it("metricNames finds the metrics of an expression, not its functions, labels or keywords", () => {
    expect(metricNames('histogram_quantile(0.95, sum by (operation, le) (rate(rekon_aws_request_duration_seconds_bucket{namespace=~"$namespace"}[$__rate_interval])))')).toEqual(["rekon_aws_request_duration_seconds_bucket"]);
    expect(metricNames("(time() - a_b > 3 * c) and on (namespace, job) (d offset 5m == 1) or absent(e)").sort()).toEqual(["a_b", "c", "d", "e"]);
  });

  it("the live scrape has rekon's families (sanity check of the check)", () => {
    for (const n of ["rekon_reconcile_total", "rekon_deletions_total", "rekon_aws_request_duration_seconds_bucket", "process_start_time_seconds"]) expect(exported.has(n), n).toBe(true);
    expect(exported.has("rekon_made_up_total")).toBe(false);
  });

  it.each([...ruleExprs, ...dashboardExprs])("$where", ({ expr }) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !exported.has(n))).toEqual([]);
  });

  it("the dashboard's variables query an exported metric", () => {
    const q = dashboard.templating.list.find((v) => v.name === "namespace")!;
    const m = /^label_values\((\w+),\s*(\w+)\)$/.exec((q.query as { query: string }).query);
    expect(m).not.toBeNull();
    expect(exported.has(m![1]!)).toBe(true);
  });

  it("every dashboard query is valid PromQL (promtool check rules on them as recording rules)", async (ctx) => {
    skipWithoutPromtool(ctx, "PromQL syntax of the dashboard");
    const tmp = mkdtempSync(join(tmpdir(), "rekon-dash-"));
    try {
      // Grafana's variables, as Grafana would substitute them.
      const sub = (e: string) => e.replaceAll("$__rate_interval", "5m").replaceAll("$__range", "1d").replaceAll("$namespace", "rekon");
      const file = { groups: [{ name: "dashboard", rules: dashboardExprs.map((d, i) => ({ record: `dashboard:query_${i}`, expr: sub(d.expr) })) }] };
      writeFileSync(join(tmp, "dashboard.rules.yaml"), stringify(file));
      const r = await runPromtool(["check", "rules", "dashboard.rules.yaml"], undefined, tmp);
      expect(r.out).toContain(`SUCCESS: ${dashboardExprs.length} rules found`);
      expect(r.code).toBe(0);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
