/**
 * The one failure taxonomy of errored answers: every failed side falls in exactly one class,
 * each with a stable code, counted per route and side by the gate and the report. Classes are
 * read from what an observation keeps (the side's status and its CUTOVER_ERR_UPSTREAM_* code)
 * and, where the failing socket's own code is known (ECONNRESET, HPE_*, UND_ERR_*), from that.
 */

export const failureClasses = {
  'connection-refused': { code: 'CUTOVER_FAIL_CONNECTION_REFUSED', title: 'connection refused (or host unreachable)' },
  'connection-reset': { code: 'CUTOVER_FAIL_CONNECTION_RESET', title: 'connection reset or closed before a full answer' },
  'timeout-headers': { code: 'CUTOVER_FAIL_TIMEOUT_HEADERS', title: 'timed out before the answer\'s headers' },
  'timeout-body': { code: 'CUTOVER_FAIL_TIMEOUT_BODY', title: 'timed out in the answer\'s body' },
  protocol: { code: 'CUTOVER_FAIL_PROTOCOL', title: 'HTTP protocol error (unparseable or ambiguous answer)' },
  '5xx': { code: 'CUTOVER_FAIL_5XX', title: 'answered with a 5xx status' },
  'body-over-bound': { code: 'CUTOVER_FAIL_BODY_OVER_BOUND', title: 'answer body over the capture bound' },
  'client-abort': { code: 'CUTOVER_FAIL_CLIENT_ABORT', title: 'the client went away before the answer' },
  unclassified: { code: 'CUTOVER_FAIL_UNCLASSIFIED', title: 'upstream failure of no known class' },
} as const;

export type FailureClass = keyof typeof failureClasses;

const socketCodes: ReadonlyArray<[RegExp, FailureClass]> = [
  [/^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/, 'connection-refused'],
  [/^(ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED)$/, 'connection-reset'],
  [/^(UND_ERR_HEADERS_TIMEOUT|UND_ERR_CONNECT_TIMEOUT)$/, 'timeout-headers'],
  [/^UND_ERR_BODY_TIMEOUT$/, 'timeout-body'],
  [/^(HPE_|UND_ERR_INVALID|UND_ERR_RES_CONTENT_LENGTH_MISMATCH)/, 'protocol'],
  [/^(UND_ERR_ABORTED|ECONNABORTED)$/, 'client-abort'],
  [/^UND_ERR_RES_EXCEEDED_MAX_SIZE$/, 'body-over-bound'],
];

/**
 * An answer longer than the capture bound was answered, but not compared whole: its observation
 * carries this code (proxy/observe/observation-recorder.ts) so the class is counted; it is not
 * the side's error.
 */
export const bodyOverBoundCode = failureClasses['body-over-bound'].code;

/** Whether a failure class says the side erred: a client that went away or the harness's own bound do not. */
export const sideErred = (failure: FailureClass) => failure !== 'client-abort' && failure !== 'body-over-bound';

/** Whether a side's answer counts as failed: a failure (timeouts included) or a 5xx. */
export const sideFailed = (side: { status: number | null; error: string | null }) => side.error !== null || side.status === null || side.status >= 500;

/** The class of a failed side. `cause` is the socket's own error code when it is known. */
export function classifyFailure(side: { status: number | null; error: string | null }, cause?: string): FailureClass {
  if (cause) for (const [pattern, failure] of socketCodes) if (pattern.test(cause)) return failure;
  if (side.error?.startsWith('CUTOVER_FAIL_')) {
    const known = (Object.keys(failureClasses) as FailureClass[]).find((name) => failureClasses[name].code === side.error);
    if (known) return known;
  }
  switch (side.error) {
    case null:
      return side.status !== null && side.status >= 500 ? '5xx' : 'unclassified';
    case 'CUTOVER_ERR_UPSTREAM_UNREACHABLE':
      return 'connection-refused';
    case 'CUTOVER_ERR_UPSTREAM_TIMEOUT':
    case 'CUTOVER_ERR_SHADOW_TIMEOUT':
      // A status means the headers had arrived: the time ran out in the body.
      return side.status === null ? 'timeout-headers' : 'timeout-body';
    case 'CUTOVER_ERR_UPSTREAM_FAILED':
      return 'connection-reset';
    case 'CUTOVER_ERR_UPSTREAM_MALFORMED':
      return 'protocol';
    case 'CUTOVER_ERR_CLIENT_ABORTED':
      return 'client-abort';
    default:
      return 'unclassified';
  }
}
