/**
 * Representative traffic for recording the golden set: every route of the catalogue at
 * least once where it means something, sent through the proxy's front doors — health and
 * metrics, counties and properties, each plugin's run → status → results, a GIS export of a
 * small area run → status → results → download (and a cancel of the finished job), gateway
 * logins (form and JSON, refresh), the gateway's plugin doors and generic passthrough, and
 * the narrator's tasks. Job reads wait for the job on the service directly (not through the
 * proxy), so the recorded read is the finished job's, not a racing PENDING one.
 */
import pg from 'pg';

export interface TrafficTargets {
  /** The proxy's front doors. */
  proxy: { gateway: string; sync: string; narrator: string };
  /** Legacy sync itself, for waiting on jobs without recording the waits. */
  directSync: string;
  databaseUrl: string;
  county?: string;
  log?: (line: string) => void;
}

interface Reply {
  status: number;
  json: any;
  headers: Headers;
}

async function call(url: string, init: { method?: string; json?: unknown; form?: Record<string, string>; token?: string; cookie?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.cookie) headers.cookie = init.cookie;
  const response = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual', signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, headers: response.headers };
}

async function waitForJob(url: string, deadlineMs = 120_000): Promise<string> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const reply = await call(url);
    const state = reply.json?.status;
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(state)) return state;
    if (Date.now() > deadline) throw new Error(`job at ${url} still ${state} after ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A small area of interest: the bounding box of the county's first few parcels. */
async function smallArea(databaseUrl: string, county: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT min(min_x) AS minx, min(min_y) AS miny, max(max_x) AS maxx, max(max_y) AS maxy
         FROM (SELECT min_x, min_y, max_x, max_y FROM property_operational WHERE county_id = $1 AND geometry IS NOT NULL ORDER BY property_id LIMIT 25) AS first`,
      [county],
    );
    const { minx, miny, maxx, maxy } = rows[0] as Record<string, number>;
    return { type: 'Polygon', coordinates: [[[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]] };
  } finally {
    await client.end();
  }
}

/** Drives the traffic; resolves with the number of requests sent through the proxy. */
export async function driveRepresentativeTraffic(targets: TrafficTargets): Promise<number> {
  const county = targets.county ?? 'test_county';
  const log = targets.log ?? (() => undefined);
  const { sync, gateway, narrator } = targets.proxy;
  let sent = 0;
  const send = async (url: string, init?: Parameters<typeof call>[1]) => {
    sent += 1;
    return call(url, init);
  };
  const area = await smallArea(targets.databaseUrl, county);

  log('sync: core routes');
  await send(`${sync}/health`);
  await send(`${sync}/metrics`);
  await send(`${sync}/counties`);
  await send(`${sync}/counties/${county}`);
  const properties = await send(`${sync}/properties?county_id=${county}&limit=5`);
  await send(`${sync}/properties?county_id=${county}&property_type=residential&limit=3&offset=2`);
  await send(`${sync}/properties?limit=abc`);
  await send(`${sync}/properties/${encodeURIComponent(properties.json?.[0]?.property_id ?? 'none')}`);

  log('sync: GIS export');
  const exportBody = { county_id: county, format: 'GeoJSON', username: 'golden-recorder', area_of_interest: area, layers: ['parcels'], parameters: null };
  await send(`${sync}/plugins/v1/gis-export/health`);
  await send(`${sync}/plugins/v1/gis-export/formats/${county}`);
  await send(`${sync}/plugins/v1/gis-export/defaults/${county}`);
  const run = await send(`${sync}/plugins/v1/gis-export/run`, { json: exportBody });
  const jobId = run.json?.job_id as string;
  await waitForJob(`${targets.directSync}/plugins/v1/gis-export/status/${jobId}`);
  await send(`${sync}/plugins/v1/gis-export/status/${jobId}`);
  await send(`${sync}/plugins/v1/gis-export/results/${jobId}`);
  await send(`${sync}/plugins/v1/gis-export/download/${jobId}`);
  await send(`${sync}/plugins/v1/gis-export/cancel/${jobId}`, { method: 'POST' });
  await send(`${sync}/plugins/v1/gis-export/list?county_id=${county}&limit=5`);
  await send(`${sync}/plugins/v1/gis-export/run`, { json: { county_id: county } });
  const kml = await send(`${sync}/plugins/v1/gis-export/run`, {
    json: { ...exportBody, format: 'KML', layers: ['parcels', 'roads'], parameters: { simplify_tolerance: 0.0005, include_attributes: false } },
  });
  await waitForJob(`${targets.directSync}/plugins/v1/gis-export/status/${kml.json?.job_id}`);

  log('sync: reporting, market analysis, valuation');
  const report = await send(`${sync}/plugins/v1/reporting/run`, { json: { report_type: 'assessment_summary', county_id: county } });
  await send(`${sync}/plugins/v1/reporting/status/${report.json?.report_id}`);
  await send(`${sync}/plugins/v1/reporting/results/${report.json?.report_id}`);
  const failing = await send(`${sync}/plugins/v1/reporting/run`, { json: { report_type: 'FAILING_REPORT_SIM', county_id: county, parameters: { note: 'failure path' } } });
  await send(`${sync}/plugins/v1/reporting/results/${failing.json?.report_id}?format=json`);
  const analysis = await send(`${sync}/plugins/v1/market-analysis/run`, { json: { analysis_type: 'price_trend_by_zip', county_id: county } });
  await send(`${sync}/plugins/v1/market-analysis/status/${analysis.json?.job_id}`);
  await send(`${sync}/plugins/v1/market-analysis/results/${analysis.json?.job_id}`);
  await send(`${sync}/plugins/v1/market-analysis/run`, { json: { analysis_type: 'no_such_study', county_id: county, parameters: { zip_codes: ['98901'] } } });
  const valuation = await send(`${sync}/plugins/v1/valuation/run`, { json: { county_id: county, property_id: properties.json?.[0]?.property_id } });
  await send(`${sync}/plugins/v1/valuation/status/${valuation.json?.job_id}`);
  await send(`${sync}/plugins/v1/valuation/results/${valuation.json?.job_id}`);

  // Lists of report jobs are asked where no other traffic creates one, so they replay the same in any state.
  log('sync: reporting job CRUD, sync administration, seed');
  const reports = `${sync}/plugins/v1/reporting/reports`;
  const created = await send(reports, { json: { report_type: 'assessment_roll', county_id: county, parameters: { year: 2025 } } });
  await send(reports, { json: { county_id: county } });
  await send(`${reports}/${created.json?.report_id}`);
  await send(`${reports}/${created.json?.report_id}`, { method: 'PATCH', json: { status: 'RUNNING', message: 'Rendering' } });
  await send(`${reports}/${created.json?.report_id}`, { method: 'PATCH', json: { status: 'COMPLETED', result_location: `s3://terrafusion-reports/${county}/assessment_roll/golden.pdf`, result_metadata: { pages: 4 } } });
  await send(`${reports}/no-such-report`, { method: 'PATCH', json: { status: 'DONE' } });
  await send(`${reports}?county_id=golden_no_reports&status=PENDING&limit=5`);
  await send(`${reports}?created_after=2025-01-01T00:00:00Z`);
  await send(`${reports}?limit=0&created_after=yesterday`);
  await send(`${sync}/sync-sources?county_id=${county}`);
  await send(`${sync}/import-jobs?source_system_id=1&limit=10`);
  await send(`${sync}/import-jobs?limit=abc`);
  await send(`${sync}/seed-sample-data?count=3&county_id=golden_seed`, { method: 'POST' });
  await send(`${sync}/seed-sample-data?count=abc&include_sync_sources=maybe`, { method: 'POST' });

  // /plugins/market-analysis runs its jobs after the 202: reads wait for the job on sync directly,
  // and the list asks for the county's newest job only, the one just run.
  log('sync: GIS export metrics, market analysis at /plugins/market-analysis and its doubled mount');
  await send(`${sync}/plugins/v1/gis-export/metrics`);
  for (const [base, analysisType] of [['/plugins/market-analysis', 'sales_velocity'], ['/plugins/v1/market-analysis/plugins/market-analysis', 'market_valuation']] as const) {
    await send(`${sync}${base}/health`);
    const study = await send(`${sync}${base}/run`, { json: { county_id: county, analysis_type: analysisType, parameters: { start_date: '2020-01-01', note: 'golden' } } });
    const studyId = study.json?.job_id as string;
    await waitForJob(`${targets.directSync}/plugins/market-analysis/status/${studyId}`);
    await send(`${sync}${base}/status/${studyId}`);
    await send(`${sync}${base}/results/${studyId}`);
    await send(`${sync}${base}/cancel/${studyId}`, { method: 'POST' });
    await send(`${sync}${base}/list?county_id=${county}&limit=1`);
    await send(`${sync}${base}/run`, { json: { county_id: county, analysis_type: 'sales_ratio_study', parameters: {} } });
    await send(`${sync}${base}/status/no-such-job`);
  }
  const failedStudy = await send(`${sync}/plugins/market-analysis/run`, { json: { county_id: county, analysis_type: 'comparable_market_area', parameters: { zip_code: '00000' } } });
  await waitForJob(`${targets.directSync}/plugins/market-analysis/status/${failedStudy.json?.job_id}`);
  // Its own query, so this status read is a fixture of its own: on replay it waits for FAILED before the results are asked.
  await send(`${sync}/plugins/market-analysis/status/${failedStudy.json?.job_id}?view=failed`);
  await send(`${sync}/plugins/market-analysis/results/${failedStudy.json?.job_id}?view=failed`);

  log('gateway: health, logins, doors');
  await send(`${gateway}/health`);
  await send(`${gateway}/health/live`);
  await send(`${gateway}/health/ready`);
  const login = await send(`${gateway}/auth/login`, { json: { username: 'admin', password: 'admin123' } });
  await send(`${gateway}/auth/login`, { json: { username: 'staff', password: 'wrong-password', remember: true } });
  const token = login.json?.access_token as string;
  await send(`${gateway}/auth/refresh`, { json: { refresh_token: login.json?.refresh_token } });
  const form = await send(`${gateway}/login`, { form: { username: 'assessor', password: 'assessor123', next: '/' } });
  const cookie = form.headers.getSetCookie().map((line) => line.split(';')[0]!).find((pair) => pair.startsWith('session='));
  const gatewayRun = await send(`${gateway}/api/v1/gis-export/run`, { json: { ...exportBody, username: 'admin' }, token });
  const gatewayJob = gatewayRun.json?.job_id as string;
  await waitForJob(`${targets.directSync}/plugins/v1/gis-export/status/${gatewayJob}`);
  await send(`${gateway}/api/v1/gis-export/status/${gatewayJob}`, { token });
  await send(`${gateway}/api/v1/gis-export/results/${gatewayJob}`, { token });
  await send(`${gateway}/api/v1/gis-export/cancel/${gatewayJob}`, { method: 'POST', token });
  await send(`${gateway}/api/v1/gis-export/list?county_id=${county}&limit=3`, { token });
  await send(`${gateway}/api/v1/gis-export/list?county_id=${county}`);
  const gatewayReport = await send(`${gateway}/api/v1/reporting/run`, { json: { report_type: 'assessment_summary', county_id: county }, token });
  await send(`${gateway}/api/v1/reporting/status/${gatewayReport.json?.report_id}`, { token });
  await send(`${gateway}/api/v1/reporting/results/${gatewayReport.json?.report_id}`, { token });
  const gatewayReports = `${gateway}/api/v1/reporting/reports`;
  const gatewayCreated = await send(gatewayReports, { json: { report_type: 'assessment_roll', county_id: county }, token });
  await send(`${gatewayReports}/${gatewayCreated.json?.report_id}`, { token });
  await send(`${gatewayReports}/${gatewayCreated.json?.report_id}`, { method: 'PATCH', json: { status: 'FAILED', message: 'Cancelled by the assessor' }, token });
  await send(`${gatewayReports}/${gatewayCreated.json?.report_id}`, { method: 'PATCH', json: { status: 'COMPLETED' } });
  await send(`${gatewayReports}?county_id=${county}&report_type=golden_none`, { token });
  const gatewayAnalysis = await send(`${gateway}/api/v1/market-analysis/run`, { json: { analysis_type: 'sales_ratio_study', county_id: county }, token });
  await send(`${gateway}/api/v1/market-analysis/status/${gatewayAnalysis.json?.job_id}`, { token });
  await send(`${gateway}/api/v1/market-analysis/results/${gatewayAnalysis.json?.job_id}`, { token });
  const door = `${gateway}/api/v1/market-analysis/plugins/market-analysis`;
  await send(`${door}/health`, { token });
  const doorStudy = await send(`${door}/run`, { json: { county_id: county, analysis_type: 'price_per_sqft', parameters: { property_types: ['residential'] } }, token });
  await waitForJob(`${targets.directSync}/plugins/market-analysis/status/${doorStudy.json?.job_id}`);
  await send(`${door}/status/${doorStudy.json?.job_id}`, { token });
  await send(`${door}/results/${doorStudy.json?.job_id}`, { token });
  await send(`${door}/cancel/${doorStudy.json?.job_id}`, { method: 'POST', token });
  await send(`${door}/list?county_id=${county}&limit=1`, { token });
  const gatewayValuation = await send(`${gateway}/api/v1/valuation/run`, { json: { county_id: county, property_id: properties.json?.[1]?.property_id }, token });
  await send(`${gateway}/api/v1/valuation/status/${gatewayValuation.json?.job_id}`, { token });
  await send(`${gateway}/api/v1/valuation/results/${gatewayValuation.json?.job_id}`, { token });
  await send(`${gateway}/api/v1/valuation/run`, { json: { county_id: county, property_id: 'x' }, cookie });
  await send(`${gateway}/api/counties`, { token });
  await send(`${gateway}/api/counties/${county}`, { cookie });
  await send(`${gateway}/api/properties?county_id=${county}&limit=2`, { token });
  await send(`${gateway}/api/plugins/v1/gis-export/formats/${county}`, { token });

  log('narrator: tasks with the stand-in');
  await send(`${narrator}/api/v1/health`);
  await send(`${narrator}/api/v1/summarize`, { json: { text: 'Parcel 101 in Test County was reassessed after a new garage was built.' } });
  await send(`${narrator}/api/v1/classify`, { json: { text: 'Commercial lot with a warehouse and loading docks.', max_tokens: 50 } });
  await send(`${narrator}/api/v1/explain`, { json: { text: 'Why did the assessed value rise 12% this year?', temperature: 0.2 } });
  await send(`${narrator}/api/v1/summarize`, { json: { model: 'llama3.2' } });
  await send(`${narrator}/api/v1/ai/analyze/gis-export`, { json: { job_id: jobId } });
  await send(`${gateway}/api/v1/ai/summarize`, { json: { text: 'Three parcels changed hands in March.' }, token });
  await send(`${gateway}/api/v1/ai/classify`, { json: { text: 'Vacant agricultural land.' }, token });
  await send(`${gateway}/api/v1/ai/explain`, { json: { text: 'What is a sales ratio study?' }, token });
  await send(`${narrator}/api/v1/metrics`);
  await send(`${gateway}/gateway-metrics`);
  return sent;
}
