/** Typed errors: one class per status family, each carrying the API's {code, message, details}. */

export class CostSimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = new.target.name;
    this.apiMessage = message;
  }

  /** The API's message, without the status and code prefix. */
  readonly apiMessage: string;
}

/** 400: malformed JSON, an invalid cursor. */
export class BadRequestError extends CostSimError {}
/** 401: the API key is missing or unknown. */
export class AuthenticationError extends CostSimError {}
/** 403: the role lacks the permission, another tenant was named, or a signed link is refused. */
export class PermissionDeniedError extends CostSimError {}
/** 404: no such resource. */
export class NotFoundError extends CostSimError {}
/** 409: nothing changed (e.g. V2 routing already in the requested state). */
export class ConflictError extends CostSimError {}
/** 422: the request does not match the schema (details carry field paths). */
export class ValidationError extends CostSimError {}
/** 5xx: the server failed or a dependency (signing keys, export directory) is unavailable. */
export class ServerError extends CostSimError {}
/** No HTTP answer: refused connection or timeout (status 0, code "timeout" or "transport_error"). */
export class TransportError extends CostSimError {}

/** 429 after the bounded retries were spent, or when Retry-After exceeded the allowed wait. */
export class RateLimitedError extends CostSimError {
  constructor(code: string, message: string, details: unknown, readonly retryAfterS: number) {
    super(429, code, message, details);
  }
}

const BY_STATUS: Record<number, typeof CostSimError> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: ValidationError,
};

/** Retry-After in seconds (delta form); 1 when absent or unreadable. */
export function retryAfterS(response: Response): number {
  const value = Number(response.headers.get("Retry-After") ?? "1");
  return Number.isFinite(value) && value >= 0 ? value : 1;
}

function errorBody(status: number, text: string): [string, string, unknown] {
  try {
    const { code, message, details } = JSON.parse(text).error;
    if (typeof code === "string" && typeof message === "string") return [code, message, details ?? null];
  } catch {
    // not the API's error body (a proxy's page, say): fall through to a stand-in
  }
  return [`http_${status}`, text.slice(0, 500), null];
}

/** The typed error for an error response (reads its body). */
export async function errorFor(response: Response): Promise<CostSimError> {
  const [code, message, details] = errorBody(response.status, await response.text());
  if (response.status === 429) return new RateLimitedError(code, message, details, retryAfterS(response));
  const Family = BY_STATUS[response.status] ?? (response.status >= 500 ? ServerError : CostSimError);
  return new Family(response.status, code, message, details);
}
