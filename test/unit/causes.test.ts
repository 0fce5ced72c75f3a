// One message per cause: project errors as the plan carries them (the exact texts the identity step, the
// reads and the gate produce) are told apart by cause, and grouped so a cause that stopped every project
// is said once with what to do.
import { describe, expect, it } from "vitest";
import { causeLines, classifyError, groupProjectErrors, groupTagReadErrors, groupWriteFailures, tagCauseLines, tagReadCause, writeFailureCause } from "../../reconciler/render/causes.js";
import type { PlanAction, PlanProject, WriteResult } from "../../reconciler/types.js";

/** The gate's wording for a credential source whose account STS could not resolve. */
const sts = (err: string) => `the account of the ambient credentials could not be resolved (sts:GetCallerIdentity: GetCallerIdentity ambient: ${err}); nothing in this project is read or deleted`;
const HINT = " (pointing rekon at an emulator? set AWS_ENDPOINT_URL_STS as well as AWS_ENDPOINT_URL_REKOGNITION)";
const DENIED_DESCRIBE = "DescribeProjects failed: DescribeProjects fraud,shelf: AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: rekognition:DescribeProjects on resource: arn:aws:rekognition:us-east-1:123456789012:project/*";
const deniedVersions = (p: string) => `DescribeProjectVersions failed: DescribeProjectVersions arn:aws:rekognition:us-east-1:123456789012:project/${p}/1: AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: rekognition:DescribeProjectVersions on resource: arn:aws:rekognition:us-east-1:123456789012:project/${p}/1`;

function project(name: string, error: string, o: Partial<PlanProject> = {}): PlanProject {
  return { project: name, region: "us-east-1", projectArn: null, status: "error", error, set: `${name}-set`, ...o };
}

describe("classifyError: the cause of one project's error", () => {
  it.each([
    { name: "no credentials anywhere in the chain", error: sts("CredentialsProviderError: Could not load credentials from any providers"), kind: "credentials", key: "credentials|missing", fix: "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login" },
    { name: "an unknown access key", error: sts("InvalidClientTokenId: The security token included in the request is invalid."), kind: "credentials", key: "credentials|refused", fix: "check AWS_PROFILE" },
    { name: "a wrong secret", error: sts("SignatureDoesNotMatch: The request signature we calculated does not match"), kind: "credentials", key: "credentials|refused", fix: "secret does not match" },
    { name: "Rekognition refusing the key", error: "DescribeProjects failed: DescribeProjects a,b: UnrecognizedClientException: The security token included in the request is invalid.", kind: "credentials", key: "credentials|refused", fix: "check AWS_PROFILE" },
    { name: "an expired session token (STS)", error: sts("ExpiredToken: The security token included in the request is expired"), kind: "expired", key: "expired", fix: "aws sso login" },
    { name: "an expired token (Rekognition)", error: "DescribeProjects failed: DescribeProjects a: ExpiredTokenException: The security token included in the request is expired", kind: "expired", key: "expired", fix: "AWS_SESSION_TOKEN" },
    { name: "an expired SSO session", error: sts("CredentialsProviderError: The SSO session associated with this profile has expired or is otherwise invalid. To refresh this SSO session run aws sso login"), kind: "expired", key: "expired", fix: "aws sso login" },
    { name: "no region for the SDK", error: sts("Error: Region is missing"), kind: "region", key: "region", fix: "AWS_REGION" },
    { name: "STS unreachable", error: sts("ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1"), kind: "endpoint", key: "endpoint|STS|127.0.0.1:1", fix: "AWS_ENDPOINT_URL_STS" },
    { name: "STS host unknown", error: sts("ENOTFOUND: getaddrinfo ENOTFOUND sts.us-east-1.amazonaws.com (after 9 attempts)"), kind: "endpoint", key: "endpoint|STS|sts.us-east-1.amazonaws.com", fix: "check the network" },
    { name: "Rekognition unreachable", error: "DescribeProjects failed: DescribeProjects a,b: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4566", kind: "endpoint", key: "endpoint|Rekognition|127.0.0.1:4566", fix: "AWS_ENDPOINT_URL_REKOGNITION" },
    { name: "one IAM action denied", error: DENIED_DESCRIBE, kind: "accessDenied", key: "accessDenied|rekognition:DescribeProjects|arn:aws:iam::123456789012:user/ci", fix: "allow rekognition:DescribeProjects for arn:aws:iam::123456789012:user/ci" },
    { name: "STS itself denied", error: sts("AccessDenied: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:GetCallerIdentity on resource: *"), kind: "accessDenied", key: "accessDenied|sts:GetCallerIdentity|arn:aws:iam::123456789012:user/ci", fix: "allow sts:GetCallerIdentity" },
    { name: "a denial without IAM's wording", error: "DescribeProjects failed: DescribeProjects a: AccessDeniedException: AccessDeniedException (injected by the emulator for DescribeProjects)", kind: "accessDenied", key: "accessDenied|rekognition:DescribeProjects|", fix: "allow rekognition:DescribeProjects" },
    { name: "reads throttled past their bound", error: "DescribeProjectVersions failed: DescribeProjectVersions arn:aws:rekognition:us-east-1:1:project/a/1: ThrottlingException: Rate exceeded (after 9 attempts)", kind: "throttled", key: "throttled|rekognition:DescribeProjectVersions", fix: "rateLimits" },
  ])("$name → $kind", ({ error, kind, key, fix }) => {
    const c = classifyError({ status: "error", error });
    expect(c.kind).toBe(kind);
    expect(c.key).toBe(key);
    expect(c.fix).toContain(fix);
  });

  it("not found is its own cause, naming the account the credentials resolved to", () => {
    const c = classifyError({ status: "notFound", error: 'project "ghost" not found in us-east-1', account: "123456789012" });
    expect(c).toMatchObject({ kind: "notFound", key: "notFound", title: "project not found" });
    expect(c.fix).toContain("123456789012");
  });

  it("the denied action's resource is kept per project", () => {
    expect(classifyError({ status: "error", error: deniedVersions("fraud") })).toMatchObject({ action: "rekognition:DescribeProjectVersions", resource: "arn:aws:rekognition:us-east-1:123456789012:project/fraud/1" });
  });

  it("with only AWS_ENDPOINT_URL_REKOGNITION set, whatever real STS answered is that one mistake", () => {
    for (const err of ["InvalidClientTokenId: The security token included in the request is invalid.", "ENOTFOUND: getaddrinfo ENOTFOUND sts.us-east-1.amazonaws.com"]) {
      const c = classifyError({ status: "error", error: sts(err + HINT) });
      expect(c.fix).toContain("set AWS_ENDPOINT_URL_STS as well as AWS_ENDPOINT_URL_REKOGNITION");
      expect(c.key).toMatch(/\|emulator$/);
    }
  });

  it("what is not recognised is grouped by its text without the resource, never merged with another text", () => {
    const a = classifyError({ status: "error", error: "DescribeProjectVersions failed: DescribeProjectVersions arn:aws:rekognition:us-east-1:1:project/a/1: InternalServerError: boom" });
    const b = classifyError({ status: "error", error: "DescribeProjectVersions failed: DescribeProjectVersions arn:aws:rekognition:us-east-1:1:project/b/2: InternalServerError: boom" });
    const c = classifyError({ status: "error", error: "DescribeProjectVersions failed: DescribeProjectVersions arn:aws:rekognition:us-east-1:1:project/b/2: InternalServerError: other" });
    expect(a.kind).toBe("other");
    expect(a.key).toBe(b.key);
    expect(a.title).toBe("DescribeProjectVersions failed: InternalServerError: boom");
    expect(c.key).not.toBe(a.key);
  });
});

describe("groupProjectErrors: one group per cause, its projects under it", () => {
  it("three projects without credentials are one cause, with the STS error once", () => {
    const err = sts("CredentialsProviderError: Could not load credentials from any providers");
    const groups = groupProjectErrors([project("fraud-detector", err), project("moderation-adapter", err), project("shelf-scanner", err)]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.cause.title).toBe("no AWS credentials were found");
    expect(groups[0]!.details).toEqual(["sts:GetCallerIdentity: GetCallerIdentity ambient: CredentialsProviderError: Could not load credentials from any providers"]);
    expect(groups[0]!.affected.map((a) => a.project.project)).toEqual(["fraud-detector", "moderation-adapter", "shelf-scanner"]);
  });

  it("different causes stay apart, in the order their first project comes; ok and notManaged projects are not errors", () => {
    const groups = groupProjectErrors([
      project("a", DENIED_DESCRIBE),
      project("ok", "", { status: "ok" }),
      project("ghost", 'project "ghost" not found in us-east-1', { status: "notFound", account: "123456789012" }),
      project("b", deniedVersions("b")),
      project("c", deniedVersions("c")),
      project("tagless", "project lacks required tag(s)", { status: "notManaged" }),
      project("d", DENIED_DESCRIBE),
    ]);
    expect(groups.map((g) => [g.cause.key, g.affected.map((a) => a.project.project)])).toEqual([
      ["accessDenied|rekognition:DescribeProjects|arn:aws:iam::123456789012:user/ci", ["a", "d"]],
      ["notFound", ["ghost"]],
      ["accessDenied|rekognition:DescribeProjectVersions|arn:aws:iam::123456789012:user/ci", ["b", "c"]],
    ]);
    expect(groups[2]!.affected.map((a) => a.resource)).toEqual(["arn:aws:rekognition:us-east-1:123456789012:project/b/1", "arn:aws:rekognition:us-east-1:123456789012:project/c/1"]);
  });

  it("causeLines: one line per cause for stderr, with the fix and every project", () => {
    const err = sts("ExpiredToken: expired");
    const lines = causeLines(groupProjectErrors([project("a", err), project("b", err)]));
    expect(lines).toEqual(["the AWS credentials have expired — 2 projects not read, nothing in them deleted: a, b; refresh the credentials (run aws sso login, or get new temporary credentials with their AWS_SESSION_TOKEN) and run rekon again"]);
  });
});

describe("version tags that could not be read", () => {
  const tags = (why: string) => ({ rule: "tagsUnreadable" as const, message: `tags could not be read: ${why}; protections cannot be checked` });
  const denied = (v: string) => `ListTagsForResource arn:aws:rekognition:us-east-1:1:project/p/version/${v}/1: AccessDeniedException: User: arn:aws:iam::1:user/ci is not authorized to perform: rekognition:ListTagsForResource on resource: arn:aws:rekognition:us-east-1:1:project/p/version/${v}/1`;
  const action = (v: string, why: string): PlanAction => ({ action: "blocked", project: "p", region: "us-east-1", versionName: v, versionArn: `arn:${v}`, status: "STOPPED", createdAt: null, feature: null, reasons: [{ rule: "minAge", message: "young" }, tags(why)], set: "p-set" });

  it("a known cause is grouped; a failure of its own, or another rule, is not", () => {
    expect(tagReadCause(tags(denied("a")))?.key).toBe("accessDenied|rekognition:ListTagsForResource|arn:aws:iam::1:user/ci");
    expect(tagReadCause(tags("ListTagsForResource x: InternalServerError: boom"))).toBeUndefined();
    expect(tagReadCause({ rule: "minAge" as const, message: "AccessDeniedException" })).toBeUndefined();
    const groups = groupTagReadErrors([action("a", denied("a")), action("b", "ListTagsForResource x: InternalServerError: boom"), action("c", denied("c"))]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.versions.map((v) => v.versionName)).toEqual(["a", "c"]);
    expect(groups[0]!.details).toEqual([denied("a"), denied("c")]);
    expect(tagCauseLines(groups)).toEqual(["access denied: rekognition:ListTagsForResource (reading version tags) — 2 versions kept (tagsUnreadable): their protections cannot be checked; allow rekognition:ListTagsForResource for arn:aws:iam::1:user/ci on arn:aws:rekognition:us-east-1:1:project/*/version/*/* (deploy/iam has least-privilege policies)"]);
  });
});

describe("failed writes", () => {
  const denied = (v: string) => `DeleteProjectVersion arn:aws:rekognition:us-east-1:1:project/p/version/${v}/1: AccessDeniedException: User: arn:aws:iam::1:user/ci is not authorized to perform: rekognition:DeleteProjectVersion on resource: arn:aws:rekognition:us-east-1:1:project/p/version/${v}/1`;
  const result = (v: string, result: WriteResult["result"], error: string): WriteResult => ({ project: "p", region: "us-east-1", versionName: v, versionArn: `arn:${v}`, operation: "delete", result, error });

  it("only failed writes whose cause every write would meet are grouped; skipped, unknown and one-off failures are not", () => {
    const rs = [
      result("a", "failed", denied("a")),
      result("b", "skipped", "not started: an earlier call in project p (us-east-1) gave up (AccessDeniedException); it is retried on the next run"),
      result("c", "failed", denied("c")),
      result("d", "failed", "DeleteProjectVersion arn:d: ResourceInUseException: in use"),
      result("e", "unknown", "DeleteProjectVersion arn:e: ECONNRESET: socket hang up"),
    ];
    expect(rs.map((r) => writeFailureCause(r)?.kind)).toEqual(["accessDenied", undefined, "accessDenied", undefined, undefined]);
    const groups = groupWriteFailures(rs);
    expect(groups.map((g) => [g.cause.title, g.versions.map((r) => r.versionName)])).toEqual([["access denied: rekognition:DeleteProjectVersion", ["a", "c"]]]);
  });
});
