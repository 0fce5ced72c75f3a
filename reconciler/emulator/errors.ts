// Errors the emulator answers, and the HTTP status each AWS error code travels with.

/** An AWS error answer: `{"__type": code, "Message": ...}` (JSON) or `<Error><Code>` (STS XML). */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: string,
    message: string,
    status?: number,
  ) {
    super(message);
    this.status = status ?? defaultStatus(code);
  }
}

// The status AWS sends with each code when nothing else says so. Client errors of AWS JSON 1.1 services
// travel as 400; the exceptions below are the ones AWS documents otherwise (Common Errors page of the API
// reference, and the STS model's httpStatusCode traits). Anything not listed is a client error: 400.
const STATUS_BY_CODE: Record<string, number> = {
  InternalServerError: 500,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  ServiceUnavailableException: 503,
  MissingAuthenticationTokenException: 403,
  MissingAuthenticationToken: 403,
  UnrecognizedClientException: 403,
  InvalidClientTokenId: 403,
  InvalidSignatureException: 403,
  SignatureDoesNotMatch: 403,
  // STS's own codes (query protocol): AccessDenied and RegionDisabledException are 403 in its model.
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
