// Environment for talking to the emulator with the real SDK: dummy credentials, no profile files, no
// instance-metadata lookups (the machines have no network), and the endpoint variable the SDK honours.
export function emulatorEnv(url: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_REKOGNITION: url,
    // rekon resolves who it is (STS GetCallerIdentity) before reading; the emulator answers STS too.
    AWS_ENDPOINT_URL_STS: url,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIDREKONTEST",
    AWS_SECRET_ACCESS_KEY: "test-secret",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

export const TEST_CREDENTIALS = { accessKeyId: "AKIDREKONTEST", secretAccessKey: "test-secret" };
