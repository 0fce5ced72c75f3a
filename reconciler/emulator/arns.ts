// Names and ARNs as AWS spells them. Project
// `arn:aws:rekognition:REGION:ACCOUNT:project/NAME/CREATION_MILLIS`, version
// `arn:aws:rekognition:REGION:ACCOUNT:project/NAME/version/VERSION_NAME/CREATION_MILLIS`.

/** Project and version names. */
export const NAME_PATTERN = /^[a-zA-Z0-9_.\-]{1,255}$/;
/** Groups: region, account, project name, creation millis. */
export const PROJECT_ARN_PATTERN = /^arn:aws[a-z-]*:rekognition:([a-z0-9-]+):(\d{12}):project\/([a-zA-Z0-9_.\-]{1,255})\/(\d+)$/;
/** Groups: region, account, project name, version name, creation millis. */
export const VERSION_ARN_PATTERN =
  /^arn:aws[a-z-]*:rekognition:([a-z0-9-]+):(\d{12}):project\/([a-zA-Z0-9_.\-]{1,255})\/version\/([a-zA-Z0-9_.\-]{1,255})\/(\d+)$/;
/** The account of any Rekognition ARN, or undefined when it is not one. */
export function arnAccount(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:rekognition:[a-z0-9-]*:(\d{12}):/.exec(arn)?.[1];
}

export function projectArn(region: string, account: string, name: string, createdAt: number): string {
  return `arn:aws:rekognition:${region}:${account}:project/${name}/${createdAt}`;
}

export function versionArn(region: string, account: string, project: string, name: string, createdAt: number): string {
  return `arn:aws:rekognition:${region}:${account}:project/${project}/version/${name}/${createdAt}`;
}
