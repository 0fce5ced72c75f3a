// Errors the emulator answers, and the HTTP status each AWS error code travels with.

/** An AWS error answer: `{"__type": code, "Message": ...}` (JSON) or `<Error><Code>` (STS XML). */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: string,
    message: string,
    status?: number,
    /**
     * Raised by AWS's front door (authentication, signature), before the service itself: such answers carry
     * only `__type` and a lowercase `message`, not Rekognition's `Code`/`Logref`.
     */
    readonly frontDoor = false,
  ) {
    super(message);
    this.status = status ?? defaultStatus(code);
  }
}

// The status AWS sends with each code when nothing else says so. Client errors of AWS JSON 1.1 services
// travel as 400. The exceptions: the Rekognition model marks InternalServerError and ThrottlingException as
// server faults (`"fault": true`; the Rekognition developer guide lists both under HTTP 500), the AWS Common
// Errors page gives 403 for MissingAuthenticationToken and 503 for ServiceUnavailable, and the STS model's
// httpStatusCode traits give 403 for AccessDenied and RegionDisabledException. Anything else: 400.
const STATUS_BY_CODE: Record<string, number> = {
  InternalServerError: 500,
  InternalFailure: 500,
  ThrottlingException: 500,
  ServiceUnavailable: 503,
  ServiceUnavailableException: 503,
  MissingAuthenticationTokenException: 403,
  MissingAuthenticationToken: 403,
  UnrecognizedClientException: 403,
  InvalidClientTokenId: 403,
  SignatureDoesNotMatch: 403,
  AccessDenied: 403,
  RegionDisabledException: 403,
};

export function defaultStatus(code: string): number {
  return STATUS_BY_CODE[code] ?? 400;
}

export const invalid = (message: string) => new ApiError("InvalidParameterException", message);
export const notFound = (message: string) => new ApiError("ResourceNotFoundException", message);
export const inUse = (message: string) => new ApiError("ResourceInUseException", message);

/** The message IAM gives when a policy does not allow an action, so a client's log reads as it would on AWS. */
export function accessDeniedMessage(callerArn: string, action: string, resource: string): string {
  return `User: ${callerArn} is not authorized to perform: ${action} on resource: ${resource}`;
}
