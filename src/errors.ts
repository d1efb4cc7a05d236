/**
 * The harness's one error registry. Callers branch on `code`, never on message text; each
 * message says what to do about it. A test checks that every code is documented in the README.
 */
export const errorCodes = {
  CUTOVER_ERR_CONFIG_INVALID: { status: 500, hint: 'Fix the named field in cutover.config.json or the environment.' },
  CUTOVER_ERR_DATABASE_UNREACHABLE: { status: 503, hint: 'Check DATABASE_URL, or unset it to use the embedded PostgreSQL.' },
  CUTOVER_ERR_EMBEDDED_PG_FAILED: { status: 500, hint: 'Remove .cutover/pg if it is corrupt, or set DATABASE_URL.' },
  CUTOVER_ERR_MIGRATION_FAILED: { status: 500, hint: 'The named migration failed; the database was left at the previous version.' },
  CUTOVER_ERR_PORT_IN_USE: { status: 500, hint: 'Stop whatever holds the port, or override the port in the config.' },
  CUTOVER_ERR_SERVICE_DIED: { status: 500, hint: 'The service exited during start; its log is printed above.' },
  CUTOVER_ERR_SERVICE_UNHEALTHY: { status: 504, hint: 'The service did not become healthy in time; see its log.' },
  CUTOVER_ERR_MISSING_PACKAGES: { status: 500, hint: 'Install the listed Debian packages (the exact command is printed).' },
  CUTOVER_ERR_SEED_INVALID: { status: 400, hint: 'Check --county and --parcels.' },
  CUTOVER_ERR_MAIN_JOB_FAILED: { status: 502, hint: 'A step of the main job failed; the named service answered as shown. See .cutover/logs/.' },
  CUTOVER_ERR_USAGE: { status: 400, hint: 'Run `cutover help` for the commands and their options.' },
  CUTOVER_ERR_ROUTES_INVALID: { status: 500, hint: 'Fix the named entry of flags/routes.yaml; the catalogue is checked at load.' },
  CUTOVER_ERR_FLAG_REASON_REQUIRED: { status: 400, hint: 'Every flag change needs a reason: pass --reason "..." (or "reason" in the request body).' },
  CUTOVER_ERR_FLAG_INVALID: { status: 400, hint: 'Use a mode of legacy|shadow|canary|reimpl|retired and, for canary, a percent 0..100.' },
  CUTOVER_ERR_FLAG_ROUTE_UNKNOWN: { status: 404, hint: 'Use a route id or glob from `cutover flags list` (flags/routes.yaml).' },
  CUTOVER_ERR_FLAG_STORE_UNAVAILABLE: { status: 503, hint: 'The flag store (PostgreSQL) is unreachable; check DATABASE_URL. Proxies keep their last known flags.' },
  CUTOVER_ERR_ADMIN_UNAUTHORIZED: { status: 401, hint: 'Send Authorization: Bearer <token>, a token of proxy.adminTokens (CUTOVER_ADMIN_TOKENS) or proxy.adminToken (CUTOVER_ADMIN_TOKEN); or sign in to the web console at / on the admin port (its session cookie expires after proxy.consoleSessionTtlMs).' },
  CUTOVER_ERR_CONSOLE_SIGN_IN_FAILED: { status: 401, hint: 'The console takes one of the admin tokens (proxy.adminTokens, CUTOVER_ADMIN_TOKENS=name:token, or proxy.adminToken); paste the token itself, not its name. Nothing was set.' },
  CUTOVER_ERR_ADMIN_RATE_LIMITED: { status: 429, hint: 'Too many wrong admin tokens came from this address within proxy.adminCredentialFailures.windowMs; wait the Retry-After seconds, then present a right one. Nothing was changed.' },
  CUTOVER_ERR_CSRF_REJECTED: { status: 403, hint: 'A change made with the console\'s session cookie needs the session\'s CSRF token (x-cutover-csrf, from GET /console/session) and an Origin of the admin server itself; reload the console and try again. Scripts send Authorization: Bearer instead.' },
  CUTOVER_ERR_UPSTREAM_UNREACHABLE: { status: 502, hint: 'The proxy could not reach the serving upstream; start it or fix its host/port in the config.' },
  CUTOVER_ERR_UPSTREAM_TIMEOUT: { status: 504, hint: 'The serving upstream did not answer in time; check its health or raise proxy.upstreamTimeoutMs.' },
  CUTOVER_ERR_UPSTREAM_FAILED: { status: 502, hint: 'The serving upstream broke the connection before a full answer; see its log.' },
  CUTOVER_ERR_SERVICE_SETTINGS_INVALID: { status: 500, hint: 'A reimplemented service read a bad environment variable (named in the message); fix it and restart the service.' },
  CUTOVER_ERR_REIMPL_FIX_UNKNOWN: { status: 500, hint: 'REIMPL_FIXES may only name ids of parity/accepted-differences.yaml entries with a fix (or `none`).' },
  CUTOVER_ERR_ACCEPTED_DIFFERENCES_INVALID: { status: 500, hint: 'Fix the named entry of parity/accepted-differences.yaml; the registry is checked at load.' },
  CUTOVER_ERR_EXPORT_WORKER_DIED: { status: 500, hint: 'The GIS export worker process exited mid-job (crash or out of memory); see the reimpl sync log. A replacement is forked once the slot is free.' },
  CUTOVER_ERR_FIXTURE_INVALID: { status: 500, hint: 'The named fixture file is not a golden fixture; re-record it with `cutover record` or `cutover replay --update all`, or delete it.' },
  CUTOVER_ERR_GOLDEN_UPDATE_IN_CI: { status: 400, hint: 'CI never rewrites goldens: run `cutover replay --update none` there, and update fixtures locally (--update new|all), then commit them.' },
  CUTOVER_ERR_REPLAY_LOGIN_FAILED: { status: 502, hint: 'Replay logs in as the fixture\'s recorded user with the demo credentials (fixtures.replayPasswords); check the target gateway and the RBAC files.' },
  CUTOVER_ERR_FUZZ_JOB_TIMEOUT: { status: 504, hint: 'A job created by a fuzz or calibrate request never reached a terminal state; see the side\'s log, or raise the deadline.' },
  CUTOVER_ERR_FUZZ_ROUTE_UNSUPPORTED: { status: 400, hint: 'fuzz and calibrate generate requests for the writing routes parity/runner/fuzz-arbitraries.ts lists (GIS export, valuation, reporting runs and report jobs, both market-analysis plugins; `cutover fuzz --help`); pass one of those.' },
  CUTOVER_ERR_NOISE_STORE_UNAVAILABLE: { status: 503, hint: 'The noise store (PostgreSQL schema cutover) is unreachable or not migrated; run `cutover migrate` and check DATABASE_URL.' },
  CUTOVER_ERR_SHADOW_TIMEOUT: { status: 504, hint: 'A shadow copy was aborted at proxy.shadow.timeoutMs (sent, or still waiting for a shadow connection); the serving answer was not affected. Check the shadow side, or raise the timeout or proxy.shadow.connectionsPerUpstream.' },
  CUTOVER_ERR_SECRETS_UNSAFE: { status: 500, hint: 'Outside environment development set JWT_SECRET_KEY (auth.jwtSecretKey) and SECRET_KEY (auth.sessionSecretKey) to secrets of your own and give every admin token 32 characters or more (proxy.adminTokens, CUTOVER_ADMIN_TOKENS=name:token); or run with environment development.' },
  CUTOVER_ERR_GATE_NOT_PASSED: { status: 409, hint: 'The readiness gate does not call the route READY: `cutover gate --route <route>` shows what failed or is missing; gather the evidence, or pass --force ("force": true) with a reason, which the audit log records as forced.' },
  CUTOVER_ERR_REQUEST_MALFORMED: { status: 400, hint: 'The request\'s HTTP/1.1 framing is ambiguous or malformed (RFC 9112: Connection naming a framing header, Content-Length beside Transfer-Encoding, a bare CR or LF, a control character...); send one plain Content-Length or Transfer-Encoding: chunked.' },
  CUTOVER_ERR_UPSTREAM_MALFORMED: { status: 502, hint: 'The serving upstream\'s answer has ambiguous or malformed HTTP/1.1 framing, so the proxy did not relay it; fix the upstream (see the message).' },
  CUTOVER_ERR_PROXY_INTERNAL: { status: 500, hint: 'A step of the proxy threw while serving this request; only this request (and its connection) was lost, the proxy stays up. Counted in cutover_proxy_internal_errors_total; report it with the message.' },
  CUTOVER_ERR_CLIENT_ABORTED: { status: 499, hint: 'The client closed its connection before the answer was complete; the upstream was not at fault. Counted in cutover_proxy_client_aborts_total, never as an upstream error.' },
  CUTOVER_ERR_COMPARISON_FAILED: { status: 500, hint: 'A shadow comparison threw inside its comparison worker; the exchange was not recorded (counted in cutover_proxy_comparison_failures_total). Report the route and its answers: the engine must judge any answer.' },
  CUTOVER_ERR_COMPARISON_TIMEOUT: { status: 504, hint: 'A shadow comparison ran past proxy.compare.timeoutMs; its worker was killed and replaced and its comparisons were not recorded. Raise the timeout for large exports, or lower the route\'s captureBytes.' },
  CUTOVER_ERR_COMPARE_WORKER_DIED: { status: 500, hint: 'A comparison worker process exited (crash, out of memory, killed); its comparisons were not recorded and the next comparison starts a new worker (counted in cutover_proxy_compare_worker_restarts_total).' },
  CUTOVER_ERR_ROLLOUT_INVALID: { status: 400, hint: 'A rollout needs rising steps 1..100 (--steps 1,5,25,50,100), a positive --step-duration and --checks, a --reason, and no other rollout in progress on the route; `cutover rollout status` shows them.' },
  CUTOVER_ERR_GDAL_BINDING_INVALID: { status: 500, hint: 'gdal-async must be built against Debian\'s GDAL: install libgdal-dev and build-essential, then run `sh scripts/gdal-binding.sh` (scripts/setup.sh runs it after npm ci) and read its build log.' },
  CUTOVER_ERR_COUNTY_INVALID: { status: 400, hint: 'Fix the named inputs of `cutover init-county` (`cutover init-county --help` lists them); nothing was written.' },
  CUTOVER_ERR_COUNTY_EXISTS: { status: 409, hint: 'The county is already configured there: pass --force to overwrite its folder (new passwords, new secrets), or choose another county id or --dir.' },
  CUTOVER_ERR_COUNTY_CHECK_FAILED: { status: 500, hint: 'The written county configuration did not load in the legacy or reimplemented loaders (named in the message); a new folder was removed again. Fix the loaders\' complaint and run init-county again.' },
  CUTOVER_ERR_REQUEST_HEADERS_TIMEOUT: { status: 408, hint: 'The client sent no complete request head within proxy.headersTimeoutMs (slowloris); the connection was closed. Send the head at once, or raise the bound.' },
  CUTOVER_ERR_REQUEST_TIMEOUT: { status: 408, hint: 'The client sent no complete request (head and body) within proxy.requestTimeoutMs; the connection was closed. On the node:http path a head not sent within proxy.headersTimeoutMs gets this code too.' },
  CUTOVER_ERR_REQUEST_HEADERS_TOO_LARGE: { status: 431, hint: 'The request head is larger than proxy.maxHeaderBytes; send fewer or smaller headers (cookies), or raise the bound.' },
  CUTOVER_ERR_UPSTREAM_BUSY: { status: 503, hint: 'Every connection to the serving upstream is busy and proxy.maxWaitersPerUpstream requests already wait for one; retry later, or raise proxy.connectionsPerUpstream or the bound.' },
  CUTOVER_ERR_OLLAMA_UNREACHABLE: { status: 503, hint: 'No Ollama answers at OLLAMA_URL (ollama.url): start it (`ollama serve`, or `cutover ollama-standin` for tests) or point OLLAMA_URL / --url at it.' },
  CUTOVER_ERR_MODEL_PULL_OFFLINE: { status: 503, hint: 'The Ollama cannot reach its registry (no internet): load the model from a GGUF file, a Modelfile with `FROM /path/to/model.gguf` and `ollama create <model> -f Modelfile`, then run `cutover pull-model` again to confirm it.' },
  CUTOVER_ERR_MODEL_PULL_FAILED: { status: 502, hint: 'Ollama reached its registry but the pull failed (an unknown model name, a full disk...: see the message); check the name with `ollama list` or on ollama.com/library.' },
  CUTOVER_ERR_TRAFFIC_NO_DATA: { status: 409, hint: 'cutover traffic reads the target\'s counties through the sync door to build its requests and found none; seed the target (cutover seed, or cutover up seeds an empty database) and run it again.' },
  CUTOVER_ERR_REPLAY_DATASET_MISMATCH: { status: 409, hint: 'The target holds other data than the fixture set was recorded on (parity/fixtures/dataset.json), so its answers would differ by data, not parity: replay with --isolated, or seed an empty database as the message says and point the target at it.' },
  CUTOVER_ERR_SCAFFOLD_INVALID: { status: 400, hint: 'Fix the named inputs of `cutover scaffold route` (`cutover scaffold --help`): a route id starting with its service, a method, a path template, a service of flags/routes.yaml whose reimplementation the scaffold knows; nothing was written.' },
  CUTOVER_ERR_SCAFFOLD_EXISTS: { status: 409, hint: 'The route id is already catalogued, or its handler or contract test file exists: choose another id, or edit the existing files.' },
  CUTOVER_ERR_BUNDLE_PACKAGES_UNRESOLVED: { status: 500, hint: 'apt could not resolve the Debian packages the bundle ships (scripts/setup.sh DEBIAN_RUNTIME_PACKAGES) against a bare Debian bookworm: run `apt-get update`, and check that every named package exists in this machine\'s Debian release; apt\'s own complaint is in the message.' },
  CUTOVER_ERR_BUNDLE_DOWNLOAD_FAILED: { status: 502, hint: '`apt-get download` could not fetch a package of the bundle: `cutover bundle` needs the Debian mirror (run `apt-get update`, check the network or proxy); the archive is only offline once built.' },
  CUTOVER_ERR_BUNDLE_STAGING_FAILED: { status: 500, hint: 'Preparing the bundle\'s production node_modules failed (npm ci --omit=dev in a temporary directory, or a native module build: gdal-async against libgdal-dev, better-sqlite3); the tool\'s output is in the message. Install libgdal-dev and build-essential (scripts/setup.sh) and try again.' },
  CUTOVER_ERR_BUNDLE_BUILD_MISSING: { status: 500, hint: 'A built part is missing: while bundling, the esbuild build of the harness or of the reimplemented services failed (see the message); in an unpacked bundle, its JavaScript, the services\' build or node_modules is gone. Build the archive again with `cutover bundle --out FILE.tar.gz` from the sources.' },
  CUTOVER_ERR_BUNDLE_CHECKSUM_MISMATCH: { status: 500, hint: 'Files of the unpacked bundle differ from its manifest.json (changed, missing or added, listed in the message): copy the archive again and unpack it afresh; `./install.sh --check` verifies it.' },
  CUTOVER_ERR_BUNDLE_INSTALL_FAILED: { status: 500, hint: 'install.sh could not install the bundle\'s Debian packages: run it as root on Debian bookworm amd64; dpkg/apt\'s complaint is printed above it.' },
} as const satisfies Record<string, { status: number; hint: string }>;

export type ErrorCode = keyof typeof errorCodes;

export class CutoverError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CutoverError';
    this.code = code;
    this.status = errorCodes[code].status;
  }

  get hint(): string {
    return errorCodes[this.code].hint;
  }
}

export function isCutoverError(error: unknown): error is CutoverError {
  return error instanceof CutoverError;
}
