// Rekognition ARNs, parsed in one place (docs/aws-behaviour.md):
//   project: arn:aws:rekognition:REGION:ACCOUNT:project/NAME/CREATION_MILLIS
//   version: arn:aws:rekognition:REGION:ACCOUNT:project/NAME/version/VERSION_NAME/CREATION_MILLIS
// Names are [a-zA-Z0-9_.-], so '/' cannot appear inside one and the split is unambiguous.
const NAME = "[a-zA-Z0-9_.\\-]{1,255}";
const PREFIX = "^arn:(aws[a-z-]*):rekognition:([a-z0-9-]+):([0-9]{12}):project/";
const PROJECT_RE = new RegExp(`${PREFIX}(${NAME})/([0-9]+)$`);
const VERSION_RE = new RegExp(`${PREFIX}(${NAME})/version/(${NAME})/([0-9]+)$`);

export interface ProjectArn {
  partition: string;
  region: string;
  account: string;
  project: string;
}

export interface VersionArn extends ProjectArn {
  version: string;
}

export function parseProjectArn(arn: string): ProjectArn | undefined {
  const m = PROJECT_RE.exec(arn);
  return m ? { partition: m[1]!, region: m[2]!, account: m[3]!, project: m[4]! } : undefined;
}

export function parseVersionArn(arn: string): VersionArn | undefined {
  const m = VERSION_RE.exec(arn);
  return m ? { partition: m[1]!, region: m[2]!, account: m[3]!, project: m[4]!, version: m[5]! } : undefined;
}
