import { CfxError, ErrorCodes, errorMessage, isCfxError, type ErrorCode } from '../api/index.js';

/** The body of every error answer: `{ error: { code, message, field? } }` with a stable `CFX_E_*` code. */
export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    /** the input field at fault (query, body or path parameter), when one is */
    field?: string;
    /** sale validation: every problem, by field */
    problems?: { field: string; message: string }[];
  };
}

/** the schema pattern of a YYYY-MM-DD date parameter */
export const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';

/** An error with the HTTP status to answer with. */
export class ApiError extends CfxError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(code, message, field !== undefined ? { details: { field } } : undefined);
    this.name = 'ApiError';
  }
}

/** 4xx for bad input, 409 for a state that forbids the call, 5xx when cfx or the server failed. */
function statusOf(code: string): number {
  switch (code) {
    case ErrorCodes.USAGE:
    case ErrorCodes.SALE_INVALID:
    case ErrorCodes.SHIFT_INVALID:
    case ErrorCodes.UNSAFE_NAME:
      return 400;
    case ErrorCodes.SALE_CONFLICT:
    case ErrorCodes.SHIFT_CONFLICT:
      return 409;
    case ErrorCodes.FILE_TOO_LARGE:
      return 413;
    case ErrorCodes.STORE_IO:
      return 503;
    default:
      // the file server answered badly or not at all
      return code.startsWith('CFX_E_TRANSPORT_') ? 502 : 500;
  }
}

/** Any thrown value → HTTP status + the JSON body. Sale problems name their field (`lines[0].amount`; `[2].time` in a batch). */
export function toApiError(e: unknown): { status: number; body: ApiErrorBody } {
  if (e instanceof ApiError) {
    return { status: e.status, body: { error: { code: e.code, message: e.message, ...(e.field !== undefined ? { field: e.field } : {}) } } };
  }
  if (isCfxError(e)) {
    const ce = e as CfxError;
    const details = ce.details ?? {};
    const problems = Array.isArray(details.problems) ? (details.problems as { field: string; message: string }[]) : undefined;
    const index = typeof details.index === 'number' ? details.index : undefined;
    const prefix = (f: string) => (index !== undefined ? `[${index}].${f}` : f);
    let field: string | undefined;
    if (problems?.[0]?.field) field = prefix(problems[0].field);
    else if (typeof details.field === 'string') field = details.field;
    else if (ce.code === ErrorCodes.SALE_CONFLICT) field = prefix('saleId');
    else if (ce.code === ErrorCodes.SHIFT_CONFLICT) field = 'shift';
    return {
      status: statusOf(ce.code),
      body: {
        error: {
          code: ce.code,
          message: ce.message,
          ...(field !== undefined ? { field } : {}),
          ...(problems ? { problems: problems.map((p) => ({ field: prefix(p.field), message: p.message })) } : {}),
        },
      },
    };
  }
  return { status: 500, body: { error: { code: ErrorCodes.INTERNAL, message: errorMessage(e) } } };
}

/** fastify's own errors (schema validation, bad JSON, body too large, wrong media type) in the same shape */
export function fromFastifyError(
  err: { statusCode?: number; code?: string; message: string; validation?: { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string }[]; validationContext?: string },
  /** the code of a bad body on an input route (a sale, a shift close); USAGE elsewhere */
  inputCode: string = ErrorCodes.USAGE,
): { status: number; body: ApiErrorBody } | undefined {
  if (err.validation && err.validation.length > 0) {
    const v = err.validation[0]!;
    let field = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    let what = v.message ?? 'is invalid';
    if (v.keyword === 'required') {
      field = [field, String(v.params.missingProperty)].filter(Boolean).join('.');
      what = 'is required';
    } else if (v.keyword === 'additionalProperties') {
      field = [field, String(v.params.additionalProperty)].filter(Boolean).join('.');
      what = 'is not a known parameter';
    } else if (v.keyword === 'pattern' && String(v.params.pattern) === DATE_PATTERN) {
      what = 'must be a date YYYY-MM-DD';
    }
    const where = err.validationContext === 'querystring' ? 'query parameter' : err.validationContext === 'params' ? 'path parameter' : 'field';
    const name = field || '(body)';
    return { status: 400, body: { error: { code: inputCode, message: `${where} ${name}: ${what}`, field: name } } };
  }
  if (typeof err.code === 'string' && err.code.startsWith('FST_')) {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
    const code = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? ErrorCodes.FILE_TOO_LARGE : inputCode;
    return { status, body: { error: { code, message: err.message, field: '(body)' } } };
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, body: { error: { code: inputCode, message: err.message } } };
  }
  return undefined;
}
