// deploy/k8s: every manifest validates against the Kubernetes API schemas (kubernetes-models, ajv over the
// OpenAPI definitions: types, required fields, enums) and has no field the API does not know (the
// OpenAPI-generated models of @kubernetes/client-node, the way `kubectl apply --validate=strict` refuses
// unknown fields). Then the deployment's intent: git-sync as a native sidecar with its probes, rekon's
// flags, spread, budget and network policy.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { resolveRunOptions } from "../../reconciler/controller/options.js";
import { ROOT } from "../helpers/run-cli.js";

const K8S = join(ROOT, "deploy/k8s");
type Doc = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

/** kubernetes-models classes by apiVersion/kind: each validates its object with the API's JSON schema. */
const MODELS: Record<string, new (d: never) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
};

const files = readdirSync(K8S).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
const docs: { file: string; doc: Doc }[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(K8S, file), "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { file, doc: d.toJS() as Doc };
  }),
);

type AttributeMap = { baseName: string; type: string }[];
/** Fields the API does not define, found by walking the object along client-node's generated type map. */
function unknownFields(value: unknown, type: string, path: string, out: string[] = []): string[] {
  if (value === null || value === undefined) return out;
  let m = /^Array<(.+)>$/.exec(type);
  if (m) {
    (value as unknown[]).forEach((v, i) => unknownFields(v, m![1]!, `${path}[${i}]`, out));
    return out;
  }
  m = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (m) {
    for (const [k, v] of Object.entries(value as object)) unknownFields(v, m[1]!, `${path}.${k}`, out);
    return out;
  }
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap }>)[type];
  if (!model?.getAttributeTypeMap) return out; // a scalar, IntOrString, Date, any
  const attrs = model.getAttributeTypeMap();
  const known = new Set(attrs.map((a) => a.baseName));
  for (const k of Object.keys(value as object)) if (!known.has(k)) out.push(`${path}.${k}`);
  for (const a of attrs) unknownFields((value as Record<string, unknown>)[a.baseName], a.type, `${path}.${a.baseName}`, out);
  return out;
}
const clientModel = (d: Doc) => `V1${d.kind}`;

describe("deploy/k8s manifests against the Kubernetes schemas", () => {
  it("kustomization lists files that exist, and every manifest but the example Secret", () => {
    const kz = parseAllDocuments(readFileSync(join(K8S, "kustomization.yaml"), "utf8"))[0]!.toJS() as { resources: string[] };
    for (const r of kz.resources) expect(files).toContain(r);
    expect([...kz.resources].sort()).toEqual(files.filter((f) => !f.includes("example")).sort());
  });

  it.each(docs.map((d) => ({ name: `${d.file}: ${d.doc.kind}/${d.doc.metadata.name}`, ...d })))("$name", ({ doc }) => {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    expect(Model, `a schema for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
    expect(() => new Model!(doc as never).validate()).not.toThrow();
    expect(unknownFields(doc, clientModel(doc), doc.kind)).toEqual([]);
  });

  it("the checks can fail: a wrong type and an unknown field are both reported", () => {
    const dep = structuredClone(docs.find((d) => d.doc.kind === "Deployment")!.doc) as Doc & { spec: { replicas: unknown; template: { spec: Record<string, unknown> } } };
    dep.spec.replicas = "two";
    expect(() => new Deployment(dep as never).validate()).toThrow(/replicas/);
    const typo = structuredClone(docs.find((d) => d.doc.kind === "Deployment")!.doc) as Doc & { spec: { template: { spec: Record<string, unknown> } } };
    typo.spec.template.spec.topologySpreadConstraint = [];
    expect(unknownFields(typo, "V1Deployment", "Deployment")).toEqual(["Deployment.spec.template.spec.topologySpreadConstraint"]);
  });
});

describe("the example deployment", () => {
  const dep = docs.find((d) => d.doc.kind === "Deployment")!.doc as unknown as k8s.V1Deployment;
  const pod = dep.spec!.template.spec!;
  const gitSync = pod.initContainers!.find((c) => c.name === "git-sync")!;
  const rekon = pod.containers.find((c) => c.name === "rekon")!;
  const flag = (c: k8s.V1Container, name: string) => c.args!.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));

  it("git-sync is a native sidecar with --max-failures, --http-bind and a startup probe on it", () => {
    expect(gitSync.restartPolicy).toBe("Always");
    expect(flag(gitSync, "max-failures")).toMatch(/^--max-failures=[1-9]/);
    const bind = flag(gitSync, "http-bind")!.split(":").at(-1);
    const port = gitSync.ports!.find((p) => p.containerPort === Number(bind))!;
    expect(port).toBeDefined();
    for (const probe of [gitSync.startupProbe, gitSync.livenessProbe]) expect(probe!.httpGet!.port).toBe(port.name);
    expect(pod.containers.map((c) => c.name)).toEqual(["rekon"]);
  });

  it("private repositories: git-sync reads username and token from an optional Secret, which the example provides", () => {
    const refs = gitSync.env!.map((e) => e.valueFrom?.secretKeyRef).filter(Boolean);
    expect(refs.map((r) => r!.key).sort()).toEqual(["token", "username"]);
    for (const r of refs) expect(r).toMatchObject({ name: "rekon-git-credentials", optional: true });
    const secret = docs.find((d) => d.doc.kind === "Secret")!.doc as unknown as { metadata: { name: string }; stringData: Record<string, string> };
    expect(secret.metadata.name).toBe("rekon-git-credentials");
    expect(Object.keys(secret.stringData).sort()).toEqual(["token", "username"]);
  });

  it("rekon's args parse with rekon's own option parser: apply, leader election, dual-stack listen, stale-manifest guard", () => {
    const flags: Record<string, string | boolean | string[]> = {};
    for (const a of rekon.args!.slice(1)) {
      const [k, v] = a.replace(/^--/, "").split(/=(.*)/s);
      if (k === "manifests") flags.manifests = [...((flags.manifests as string[]) ?? []), v!];
      else flags[k!] = v ?? true;
    }
    expect(rekon.args![0]).toBe("run");
    const opts = resolveRunOptions(flags as never, () => "rekon");
    expect(opts).toMatchObject({ apply: true, listen: { host: "", port: 8080 }, sync: { touchFile: "/git/.git/FETCH_HEAD", maxAgeMs: 600_000 }, leader: { leaseName: "rekon", leaseNamespace: "rekon" } });
    // The sync file lives on the volume git-sync writes.
    const gitMount = rekon.volumeMounts!.find((m) => m.name === "git")!;
    expect(opts.sync!.touchFile.startsWith(gitMount.mountPath + "/")).toBe(true);
    expect(flag(gitSync, "root")).toBe(`--root=${gitMount.mountPath}`);
  });

  it("non-root with a numeric uid, read-only root filesystems, spread over zones and nodes", () => {
    expect(pod.securityContext!.runAsNonRoot).toBe(true);
    for (const c of [gitSync, rekon]) {
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
      expect(c.securityContext!.runAsUser).toBeGreaterThan(0);
    }
    expect(pod.topologySpreadConstraints!.map((t) => t.topologyKey).sort()).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
    for (const t of pod.topologySpreadConstraints!) expect(t.labelSelector!.matchLabels).toEqual(dep.spec!.selector.matchLabels);
  });

  it("the image is named once: deployment.yaml says `image: rekon`, kustomization.yaml's images: entry says what that is", () => {
    const kz = parseAllDocuments(readFileSync(join(K8S, "kustomization.yaml"), "utf8"))[0]!.toJS() as { images: { name: string; newName?: string; newTag?: string; digest?: string }[] };
    const entry = kz.images.find((i) => i.name === rekon.image);
    expect(entry, `an images: entry for "${rekon.image}"`).toBeDefined();
    expect(entry!.newName).toMatch(/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+$/);
    expect(entry!.newTag ?? entry!.digest).toBeTruthy();
    // Nowhere else: not in another manifest, the docs or the README.
    const elsewhere = [...files.filter((f) => f !== "kustomization.yaml").map((f) => join(K8S, f)), join(ROOT, "README.md"), ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(ROOT, "docs", f))]
      .filter((f) => readFileSync(f, "utf8").includes(entry!.newName!));
    expect(elsewhere).toEqual([]);
  });

  it("rekon has a startup probe on /healthz, so liveness counts only once it listens", () => {
    expect(rekon.startupProbe!.httpGet).toMatchObject({ path: "/healthz", port: "http" });
    expect(rekon.startupProbe!.periodSeconds! * rekon.startupProbe!.failureThreshold!).toBeGreaterThanOrEqual(30);
    expect(rekon.ports!.map((p) => p.name)).toContain("http");
  });

  it("the memory limit leaves at least 25 % over the documented peak (docs/install.md, from npm run bench P5), and bounds the heap", () => {
    const doc = readFileSync(join(ROOT, "docs/install.md"), "utf8");
    const m = /P5 peak RSS[^\n]*?\*\*(\d+) MiB\*\*/.exec(doc);
    expect(m, "docs/install.md states the P5 peak as **N MiB**").not.toBeNull();
    const peakMi = Number(m![1]);
    const mi = (q: string) => {
      const x = /^(\d+)(Mi|Gi)$/.exec(q)!;
      return Number(x[1]) * (x[2] === "Gi" ? 1024 : 1);
    };
    const limit = mi(String(rekon.resources!.limits!.memory));
    expect(limit).toBeGreaterThanOrEqual(1.25 * peakMi);
    expect(mi(String(rekon.resources!.requests!.memory))).toBeLessThanOrEqual(limit);
    // The figure was measured with these heap bounds; the old space must fit well inside the limit.
    const opts = rekon.env!.find((e) => e.name === "NODE_OPTIONS")!.value!;
    expect(Number(/--max-old-space-size=(\d+)/.exec(opts)![1])).toBeLessThan(limit / 1.5);
    expect(doc).toContain(opts.split(" ")[0]!);
  });

  it("the PodDisruptionBudget never blocks a drain when every replica is unready (an invalid manifest makes them all unready)", () => {
    const pdb = docs.find((d) => d.doc.kind === "PodDisruptionBudget")!.doc as unknown as k8s.V1PodDisruptionBudget;
    expect(pdb.spec!.unhealthyPodEvictionPolicy).toBe("AlwaysAllow");
    // Why it matters: readiness is /readyz, which fails while the manifests are invalid, on every replica.
    expect(rekon.readinessProbe!.httpGet!.path).toBe("/readyz");
    // The schema knows the field and its values: a typo is rejected, so the test above cannot pass on one.
    const typo = structuredClone(pdb) as unknown as { spec: { unhealthyPodEvictionPolicy: string } };
    typo.spec.unhealthyPodEvictionPolicy = "AlwaysAlow";
    expect(() => new PodDisruptionBudget(typo as never).validate()).toThrow(/unhealthyPodEvictionPolicy/);
  });

  it("a PodDisruptionBudget and a NetworkPolicy select the deployment's pods", () => {
    const pdb = docs.find((d) => d.doc.kind === "PodDisruptionBudget")!.doc as unknown as k8s.V1PodDisruptionBudget;
    expect(pdb.spec!.selector!.matchLabels).toEqual(dep.spec!.selector.matchLabels);
    expect(pdb.spec!.maxUnavailable).toBe(1);
    const np = docs.find((d) => d.doc.kind === "NetworkPolicy")!.doc as unknown as k8s.V1NetworkPolicy;
    expect(np.spec!.podSelector!.matchLabels).toEqual(dep.spec!.selector.matchLabels);
    expect(np.spec!.policyTypes).toEqual(["Ingress", "Egress"]);
    // Egress only to DNS (53), HTTPS (443) and the API server (6443).
    const ports = np.spec!.egress!.flatMap((e) => (e.ports ?? []).map((p) => `${p.protocol}/${p.port}`)).sort();
    expect(ports).toEqual(["TCP/443", "TCP/53", "TCP/6443", "UDP/53"]);
    expect(np.spec!.ingress!.flatMap((i) => (i.ports ?? []).map((p) => p.port))).toEqual([8080]);
  });
});
