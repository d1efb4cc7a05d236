/**
 * Valuation plugin, prefix /plugins/v1/valuation. Reproduces legacy
 * terrafusion_sync/plugins/valuation.py and valuation_comparables.py: `POST /run` (202, job run
 * inline) values one property or a list by size- and age-adjusted comparable sales, widening
 * the search once; 404 for a property the county lacks (no job created); pydantic v1 422s;
 * Python float arithmetic in the same order, round() half-to-even (`round(x, -2)` stays a float).
 */
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { bodyModel, HttpDetail, sendPy } from '../../shared/fastapi.js';
import { plainNumber, PyFloat, type PyValue } from '../../shared/py-json.js';
import { checked, constr, date, int, list, nested, setValues, str, type ModelSpec, type ModelValue } from '../../shared/pydantic-v1.js';
import { roundFloat } from '../../shared/py-round.js';
import { addStatusAndResultsRoutes, JobFailed, JobStore, type Row } from './job-table.js';

const PREFIX = '/plugins/v1/valuation';
const DEFAULTS = { lookback_months: 24, min_comparables: 3, max_comparables: 5 } as const;
const SIZE_ADJUSTMENT_RATE = 0.25;
const AGE_ADJUSTMENT_PER_YEAR = 0.005;
const SEARCH_PASSES: Array<[string, number, number]> = [['narrow', 0.25, 10], ['widened', 0.5, 25]];
const HIGH_CONFIDENCE = 0.75;
const MEDIUM_CONFIDENCE = 0.5;

const parametersModel: ModelSpec = {
  fields: [
    { name: 'as_of_date', validator: date, nullable: true },
    { name: 'lookback_months', validator: int({ ge: 1, le: 120 }), nullable: true },
    { name: 'min_comparables', validator: int({ ge: 1, le: 20 }), nullable: true },
    { name: 'max_comparables', validator: int({ ge: 1, le: 20 }), nullable: true },
  ],
  allowExtra: true,
  roots: [
    (v) => ((v.min_comparables ?? DEFAULTS.min_comparables) as number) > ((v.max_comparables ?? DEFAULTS.max_comparables) as number)
      ? 'min_comparables must not exceed max_comparables' : undefined,
  ],
};

const runRequest: ModelSpec = {
  fields: [
    { name: 'county_id', validator: constr({ maxLength: 50 }), required: true },
    { name: 'property_id', validator: constr({ maxLength: 64 }), nullable: true },
    { name: 'property_ids', validator: list(str, { minItems: 1, maxItems: 100 }), nullable: true },
    { name: 'valuation_method', validator: checked(str, (v) => (v === 'comparable_sales' ? undefined : 'Valuation method must be one of: comparable_sales')), fallback: 'comparable_sales' },
    { name: 'parameters', validator: nested(parametersModel), nullable: true },
  ],
  roots: [(v) => ((v.property_id == null) === (v.property_ids == null) ? 'Exactly one of property_id or property_ids is required' : undefined)],
};

const comparablesSql = (area: string) => `
    SELECT * FROM (
        SELECT DISTINCT ON (p.property_id)
               p.property_id, p.parcel_number, p.address, p.zip_code,
               p.${area} AS area_sqft, p.year_built, s.sale_date, s.sale_price
          FROM property_sales s
          JOIN property_operational p ON p.property_id = s.property_id
         WHERE s.county_id = $1 AND p.county_id = $1
           AND s.sale_type = 'arms_length'
           AND s.sale_date <= CAST($2 AS date) AND s.sale_date > CAST($2 AS date) - make_interval(months => CAST($3 AS integer))
           AND p.property_type = $4 AND p.property_id <> $5
           AND p.${area} BETWEEN CAST($6 AS float8) * (1 - CAST($7 AS float8)) AND CAST($6 AS float8) * (1 + CAST($7 AS float8))
           AND (CAST($8 AS integer) IS NULL
                OR p.year_built BETWEEN CAST($8 AS integer) - CAST($9 AS integer) AND CAST($8 AS integer) + CAST($9 AS integer))
         ORDER BY p.property_id, s.sale_date DESC, s.sale_id DESC) latest
     ORDER BY abs(ln(area_sqft / CAST($6 AS float8))) + abs(coalesce(year_built, CAST($8 AS integer), 0) - coalesce(CAST($8 AS integer), 0)) / 50.0,
              sale_date DESC, property_id
     LIMIT CAST($10 AS integer)`;

const num = (v: PyValue | undefined): number => plainNumber(v)!;
const f = (x: number) => new PyFloat(x);

/** Python's sum(): left to right from 0. */
const pySum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export function registerValuation(app: FastifyInstance, pool: pg.Pool): void {
  const store = new JobStore(pool, { table: 'valuation_jobs', idColumn: 'job_id', label: 'Valuation job', jsonColumns: ['parameters_json', 'result_json'] });

  async function loadSubjects(countyId: string, ids: string[]): Promise<Row[]> {
    const { rows } = await pool.query<Row>({
      name: 'valuation_subjects',
      text: 'SELECT property_id, county_id, property_type, building_area_sqft, land_area_sqft, year_built, assessed_total_value FROM property_operational WHERE county_id = $1 AND property_id = ANY($2)',
      values: [countyId, ids],
    });
    const found = new Map(rows.map((r) => [r.property_id as string, r]));
    for (const id of ids) if (!found.has(id)) throw new HttpDetail(404, `Property with ID ${id} not found`);
    return ids.map((id) => found.get(id)!);
  }

  async function findComparables(subject: Row, basis: string, asOf: string, lookback: number, minComparables: number, maxComparables: number): Promise<[string, Row[]]> {
    let rows: Row[] = [];
    let name = SEARCH_PASSES[0]![0];
    for (const [passName, areaTolerance, yearTolerance] of SEARCH_PASSES) {
      name = passName;
      rows = (await pool.query<Row>({
        name: `valuation_comparables_${basis}`,
        text: comparablesSql(basis),
        values: [subject.county_id, asOf, lookback, subject.property_type, subject.property_id, num(subject[basis]), areaTolerance, subject.year_built ?? null, yearTolerance, maxComparables],
      })).rows;
      if (rows.length >= minComparables) break;
    }
    return [name, rows];
  }

  async function valueProperty(subject: Row, asOf: string, lookback: number, minComparables: number, maxComparables: number): Promise<Row> {
    const basis = (['building_area_sqft', 'land_area_sqft'] as const).find((c) => subject[c] != null && num(subject[c]) > 0) ?? null;
    const result: Row = {
      property_id: subject.property_id, property_type: subject.property_type, basis, subject_area_sqft: basis ? subject[basis] : null,
      year_built: subject.year_built, assessed_total_value: subject.assessed_total_value, estimated_value: null, value_range: null,
      price_per_sqft: null, confidence_score: f(0.0), confidence_level: 'none', search: null, comparables_count: 0, comparables: [],
    };
    if (basis === null) return { ...result, note: 'no building or land area to compare by' };
    const [search, rows] = await findComparables(subject, basis, asOf, lookback, minComparables, maxComparables);
    const area = num(subject[basis]);
    const subjectYear = subject.year_built as number | null;
    const comps = rows.map((comp) => {
      const compArea = num(comp.area_sqft);
      const pricePerSqft = num(comp.sale_price) / compArea;
      const sizeAdjustment = (SIZE_ADJUSTMENT_RATE * (compArea - area)) / area;
      let ageAdjustment = 0.0;
      if (subjectYear !== null && comp.year_built !== null) ageAdjustment = AGE_ADJUSTMENT_PER_YEAR * (subjectYear - (comp.year_built as number));
      const adjusted = pricePerSqft * (1 + sizeAdjustment + ageAdjustment) * area;
      return {
        row: {
          property_id: comp.property_id, parcel_number: comp.parcel_number, address: comp.address, zip_code: comp.zip_code,
          sale_date: comp.sale_date, sale_price: comp.sale_price, area_sqft: comp.area_sqft, year_built: comp.year_built,
          price_per_sqft: f(roundFloat(pricePerSqft, 2)), size_adjustment_pct: f(roundFloat(sizeAdjustment * 100, 2)),
          age_adjustment_pct: f(roundFloat(ageAdjustment * 100, 2)), adjusted_price: f(roundFloat(adjusted, 2)),
          weight: f(0),
        } as Row,
        weight: 1.0 / (1.0 + Math.abs(sizeAdjustment) + Math.abs(ageAdjustment)),
        adjusted,
      };
    });
    Object.assign(result, { search, comparables_count: comps.length });
    if (comps.length === 0) return { ...result, note: 'no comparable sales found' };
    const totalWeight = pySum(comps.map((c) => c.weight));
    const estimate = pySum(comps.map((c) => c.adjusted * c.weight)) / totalWeight;
    const mean = pySum(comps.map((c) => c.adjusted)) / comps.length;
    const dispersion = Math.sqrt(pySum(comps.map((c) => (c.adjusted - mean) ** 2)) / comps.length) / mean;
    const confidence = roundFloat(Math.max(0.0, Math.min(1.0, (comps.length / maxComparables) * (1 - dispersion))), 2);
    for (const c of comps) c.row.weight = f(roundFloat(c.weight / totalWeight, 4));
    return {
      ...result,
      estimated_value: f(roundFloat(estimate, -2)),
      value_range: { low: f(roundFloat(estimate * (1 - dispersion), -2)), high: f(roundFloat(estimate * (1 + dispersion), -2)) },
      price_per_sqft: f(roundFloat(estimate / area, 2)),
      confidence_score: f(confidence),
      confidence_level: confidence >= HIGH_CONFIDENCE ? 'high' : confidence >= MEDIUM_CONFIDENCE ? 'medium' : 'low',
      comparables: comps.map((c) => c.row),
    };
  }

  async function latestSaleDate(countyId: string): Promise<string | null> {
    const { rows } = await pool.query<{ max: string | null }>({
      name: 'valuation_latest_sale',
      text: "SELECT max(sale_date) AS max FROM property_sales WHERE county_id = $1 AND sale_type = 'arms_length'",
      values: [countyId],
    });
    return rows[0]?.max ?? null;
  }

  const statusBody = (row: Row): Row => ({
    job_id: row.job_id, property_id: row.property_id, county_id: row.county_id, valuation_method: row.valuation_method, status: row.status,
    message: row.message, parameters: row.parameters_json, created_at: row.created_at, updated_at: row.updated_at,
    started_at: row.started_at, completed_at: row.completed_at,
  });

  app.post(`${PREFIX}/run`, async (request, reply) => {
    const { values } = bodyModel(request, runRequest);
    const countyId = values.county_id as string;
    const propertyId = (values.property_id as string | null) ?? null;
    const ids = propertyId !== null ? [propertyId] : [...(values.property_ids as string[])];
    const subjects = await loadSubjects(countyId, ids);
    const parameters = values.parameters as unknown as ModelValue | null;
    const given = parameters ? setValues(parameters) : {};
    const setting = (key: keyof typeof DEFAULTS) => (given[key] != null ? (given[key] as number) : DEFAULTS[key]);
    const lookback = setting('lookback_months');
    const stored = values.property_ids == null ? given : { property_ids: ids, ...given };
    const row = await store.createAndRun(
      { property_id: propertyId, county_id: countyId, valuation_method: values.valuation_method, parameters_json: Object.keys(stored).length ? stored : null },
      async () => {
        const asOf = (given.as_of_date as string | undefined) ?? (await latestSaleDate(countyId));
        if (asOf == null) throw new JobFailed(`Valuation failed: no arms-length sales for county ${countyId}`);
        const valuations: Row[] = [];
        for (const subject of subjects) valuations.push(await valueProperty(subject, asOf, lookback, setting('min_comparables'), setting('max_comparables')));
        return { result_json: { valuation_method: 'comparable_sales', as_of_date: asOf, lookback_months: lookback, valuations } };
      },
      'Valuation completed successfully', 'Valuation failed', 'Failed to start valuation',
    );
    return sendPy(reply, 202, statusBody(row));
  });

  addStatusAndResultsRoutes(app, PREFIX, store, statusBody, (row) => row.result_json ?? null, [
    'job_id', 'property_id', 'county_id', 'valuation_method', 'status', 'message', 'parameters', 'created_at', 'updated_at', 'started_at', 'completed_at',
  ]);
}
