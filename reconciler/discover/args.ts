// discover's flags, checked before anything is read (every usage error before any call).
import { UsageError } from "../errors.js";

type FlagValues = Record<string, string | boolean | string[] | undefined>;

const FEATURES: Record<string, ("CUSTOM_LABELS" | "CONTENT_MODERATION")[]> = {
  "custom-labels": ["CUSTOM_LABELS"],
  adapters: ["CONTENT_MODERATION"],
  all: ["CUSTOM_LABELS", "CONTENT_MODERATION"],
};

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$/;
const ROLE = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]{1,512}$/;

export interface DiscoverArgs {
  regions: string[];
  /** Role ARNs; the ambient credentials are always read first. */
  roles: string[];
  features: ("CUSTOM_LABELS" | "CONTENT_MODERATION")[];
  manifests?: string[];
  policy?: string;
  writeTo?: string;
}

/** discover's flags, checked before anything is read. `defaultRegion`: the SDK's (AWS_REGION, the profile). */
export function discoverArgs(flags: FlagValues, defaultRegion: string | undefined): DiscoverArgs {
  const given = [...new Set((flags.region as string[] | undefined) ?? [])];
  const regions = given.length ? given : defaultRegion ? [defaultRegion] : [];
  if (!regions.length) throw new UsageError("no region: pass --region REGION (repeatable) or set AWS_REGION");
  const bad = regions.find((r) => !REGION.test(r));
  if (bad) throw new UsageError(`--region ${JSON.stringify(bad)} is not an AWS region code (e.g. us-east-1)`);
  const roles = [...new Set((flags["role-arn"] as string[] | undefined) ?? [])];
  const badRole = roles.find((r) => !ROLE.test(r));
  if (badRole) throw new UsageError(`--role-arn ${JSON.stringify(badRole)} is not an IAM role ARN (e.g. arn:aws:iam::123456789012:role/rekon-read)`);
  const feature = String(flags.feature ?? "all");
  const features = FEATURES[feature];
  if (!features) throw new UsageError(`--feature must be one of: ${Object.keys(FEATURES).join(", ")}`);
  const manifests = flags.manifests as string[] | undefined;
  const writeTo = flags["write-manifests"] as string | undefined;
  if (writeTo !== undefined && !writeTo) throw new UsageError("--write-manifests needs a folder");
  return {
    regions,
    roles,
    features,
    ...(manifests?.length ? { manifests } : {}),
    ...(flags.policy !== undefined ? { policy: String(flags.policy) } : {}),
    ...(writeTo ? { writeTo } : {}),
  };
}
