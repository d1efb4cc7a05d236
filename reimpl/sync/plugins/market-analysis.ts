/**
 * Market-analysis plugin, prefix /plugins/v1/market-analysis. Reproduces legacy
 * terrafusion_sync/plugins/market_analysis.py and market_analysis_studies.py: `POST /run`
 * answers 202 with the job already run inline; price_trend_by_zip, comparable_market_area and
 * sales_ratio_study from arms-length sales; 422s for unknown types and malformed parameters;
 * Decimal money rounded as Decimal, float statistics rounded as float, both half-to-even.
 * MarketStudies also runs the studies of /plugins/market-analysis (market-analysis-plugin.ts).
 */
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { bodyModel, sendPy } from '../../shared/fastapi.js';
import { plainNumber, PyDecimal, PyFloat, type PyValue } from '../../shared/py-json.js';
import { checked, constr, date, float, list, nested, setValues, str, type ModelSpec, type ModelValue } from '../../shared/pydantic-v1.js';
import { pyRound, roundFloat } from '../../shared/py-round.js';
import { divideDecimal, subtractDecimal } from '../../shared/py-decimal.js';
import { addStatusAndResultsRoutes, JobFailed, JobStore, type JobTable, type Row } from './job-table.js';

const PREFIX = '/plugins/v1/market-analysis';
const ANALYSIS_TYPES = ['price_trend_by_zip', 'comparable_market_area', 'sales_ratio_study'];
const DEFAULT_MIN_SIMILARITY = 0.8;
export const MARKET_ANALYSIS_JOBS: JobTable = { table: 'market_analysis_jobs', idColumn: 'job_id', label: 'Market analysis job', jsonColumns: ['parameters_json', 'result_summary_json'] };

export const parametersModel: ModelSpec = {
  fields: [
    { name: 'start_date', validator: date, nullable: true },
    { name: 'end_date', validator: date, nullable: true },
    { name: 'zip_codes', validator: list(str), nullable: true },
    { name: 'property_types', validator: list(str), nullable: true },
    { name: 'zip_code', validator: str, nullable: true },
    { name: 'min_similarity', validator: float({ ge: 0, le: 1 }), nullable: true },
  ],
  allowExtra: true,
  roots: [
    (v) => (v.start_date != null && v.end_date != null && (v.start_date as string) > (v.end_date as string) ? 'start_date must not be after end_date' : undefined),
  ],
};

const runRequest: ModelSpec = {
  fields: [
    { name: 'analysis_type', validator: checked(str, (v) => (ANALYSIS_TYPES.includes(v as string) ? undefined : `Analysis type must be one of: ${ANALYSIS_TYPES.join(', ')}`)), required: true },
    { name: 'county_id', validator: constr({ maxLength: 50 }), required: true },
    { name: 'parameters', validator: nested(parametersModel), nullable: true },
  ],
};

const SALES_FILTER = `
      FROM property_sales s
      JOIN property_operational p ON p.property_id = s.property_id
     WHERE s.county_id = $1
       AND s.sale_type = 'arms_length'
       AND (CAST($2 AS date) IS NULL OR s.sale_date >= CAST($2 AS date))
       AND (CAST($3 AS date) IS NULL OR s.sale_date <= CAST($3 AS date))
       AND (CAST($4 AS text[]) IS NULL OR p.zip_code = ANY(CAST($4 AS text[])))
       AND (CAST($5 AS text[]) IS NULL OR p.property_type = ANY(CAST($5 AS text[])))
`;

const TREND_SQL = `
        SELECT p.zip_code,
               to_char(date_trunc('quarter', s.sale_date), 'YYYY-"Q"Q') AS period,
               count(*) AS sales_volume,
               avg(s.sale_price) AS average_price,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.sale_price) AS median_price,
               avg(s.sale_price / NULLIF(p.building_area_sqft, 0)) AS price_per_sqft,
               min(s.sale_date) AS first_sale, max(s.sale_date) AS last_sale${SALES_FILTER}
           AND p.zip_code IS NOT NULL
         GROUP BY GROUPING SETS ((p.zip_code, date_trunc('quarter', s.sale_date)), (p.zip_code), ())
         ORDER BY p.zip_code NULLS LAST, 2 NULLS FIRST`;

const COMPARABLE_SQL = `
        SELECT p.zip_code, count(*) AS sales_count,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.sale_price) AS median_price,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.sale_price / NULLIF(p.building_area_sqft, 0))
                   AS median_price_per_sqft${SALES_FILTER}
           AND p.zip_code IS NOT NULL
         GROUP BY p.zip_code
         ORDER BY count(*) DESC, p.zip_code`;

const RATIO_SQL = `
        WITH sales AS (
            SELECT p.property_type, s.sale_price, p.assessed_total_value,
                   p.assessed_total_value / s.sale_price AS ratio${SALES_FILTER}
               AND s.sale_price > 0 AND p.assessed_total_value IS NOT NULL),
        medians AS (
            SELECT property_type, percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio) AS median_ratio
              FROM sales GROUP BY GROUPING SETS ((property_type), ()))
        SELECT m.property_type, m.median_ratio, count(*) AS sales_count,
               avg(s.ratio) AS mean_ratio,
               sum(s.assessed_total_value) / sum(s.sale_price) AS weighted_mean_ratio,
               avg(abs(s.ratio - m.median_ratio)) / NULLIF(m.median_ratio, 0) * 100 AS cod,
               min(s.ratio) AS min_ratio, max(s.ratio) AS max_ratio
          FROM medians m
          JOIN sales s ON m.property_type IS NULL OR s.property_type = m.property_type
         GROUP BY m.property_type, m.median_ratio
         ORDER BY m.property_type NULLS FIRST`;

// The studies only /plugins/market-analysis offers (section 1b.D): PostgreSQL's arithmetic, as legacy's.
const STOCK_FILTER = `
          FROM property_operational p
         WHERE p.county_id = $1
           AND (CAST($4 AS text[]) IS NULL OR p.zip_code = ANY(CAST($4 AS text[])))
           AND (CAST($5 AS text[]) IS NULL OR p.property_type = ANY(CAST($5 AS text[])))
`;

const VELOCITY_SQL = `
        WITH sold AS (SELECT p.zip_code, s.sale_date${SALES_FILTER}
           AND p.zip_code IS NOT NULL),
        stock AS (SELECT p.zip_code, count(*) AS property_count${STOCK_FILTER}
           AND p.zip_code IS NOT NULL GROUP BY p.zip_code),
        velocity AS (
            SELECT zip_code, count(*) AS sales_count, min(sale_date) AS first_sale, max(sale_date) AS last_sale,
                   ((date_part('year', max(sale_date)) - date_part('year', min(sale_date))) * 12
                    + date_part('month', max(sale_date)) - date_part('month', min(sale_date)) + 1)::int AS months_spanned
              FROM sold GROUP BY GROUPING SETS ((zip_code), ()))
        SELECT v.zip_code, v.sales_count, v.first_sale, v.last_sale, v.months_spanned,
               CAST(CASE WHEN v.zip_code IS NULL THEN (SELECT sum(property_count) FROM stock)
                         ELSE st.property_count END AS int) AS property_count,
               v.sales_count::float8 / NULLIF(v.months_spanned, 0) AS sales_per_month,
               v.sales_count::float8 / NULLIF(CASE WHEN v.zip_code IS NULL THEN (SELECT sum(property_count) FROM stock)
                                                  ELSE st.property_count END, 0) AS turnover_rate
          FROM velocity v LEFT JOIN stock st ON st.zip_code = v.zip_code
         ORDER BY v.zip_code NULLS FIRST`;

const PER_SQFT_SQL = `
        WITH sold AS (SELECT p.property_type, s.sale_price / p.building_area_sqft AS per_sqft${SALES_FILTER}
           AND p.building_area_sqft > 0)
        SELECT property_type, count(*) AS sales_count, avg(per_sqft) AS average_price_per_sqft,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY per_sqft) AS median_price_per_sqft,
               min(per_sqft) AS min_price_per_sqft, max(per_sqft) AS max_price_per_sqft
          FROM sold GROUP BY GROUPING SETS ((property_type), ())
         ORDER BY property_type NULLS FIRST`;

const VALUATION_SQL = `
        WITH sold AS (SELECT p.property_type, s.sale_price / p.assessed_total_value AS ratio${SALES_FILTER}
           AND p.assessed_total_value > 0),
        ratios AS (SELECT property_type, count(*) AS sales_count,
                          percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio) AS median_ratio
                     FROM sold GROUP BY GROUPING SETS ((property_type), ())),
        stock AS (SELECT p.property_type, count(*) AS property_count,
                         sum(p.assessed_total_value) AS total_assessed_value${STOCK_FILTER}
                   GROUP BY GROUPING SETS ((p.property_type), ()))
        SELECT st.property_type, st.property_count, coalesce(r.sales_count, 0) AS sales_count,
               st.total_assessed_value, r.median_ratio,
               st.total_assessed_value * r.median_ratio AS estimated_market_value
          FROM stock st LEFT JOIN ratios r ON r.property_type IS NOT DISTINCT FROM st.property_type
         ORDER BY st.property_type NULLS FIRST`;

const velocity = (x: Row): Row => ({
  sales_count: x.sales_count, property_count: x.property_count ?? 0, first_sale: x.first_sale ?? null, last_sale: x.last_sale ?? null,
  months_spanned: x.months_spanned ?? null, sales_per_month: r(x.sales_per_month, 2), turnover_rate: r(x.turnover_rate, 4),
});
const perSqft = (x: Row): Row => ({
  sales_count: x.sales_count, average_price_per_sqft: r(x.average_price_per_sqft, 2), median_price_per_sqft: r(x.median_price_per_sqft, 2),
  min_price_per_sqft: r(x.min_price_per_sqft, 2), max_price_per_sqft: r(x.max_price_per_sqft, 2),
});
const valuation = (x: Row): Row => ({
  property_count: x.property_count, sales_count: x.sales_count, total_assessed_value: r(x.total_assessed_value, 2),
  median_sale_to_assessed_ratio: r(x.median_ratio, 4), estimated_market_value: r(x.estimated_market_value, 2),
});

type Num = PyFloat | PyDecimal | number | null;
const r = (value: PyValue | undefined, digits: number) => pyRound((value ?? null) as Num, digits);

/** Python's `a - b` on two rounded values (Decimal - Decimal stays Decimal, otherwise float). */
function minus(a: Num, b: Num): Num {
  if (a instanceof PyDecimal && b instanceof PyDecimal) return new PyDecimal(subtractDecimal(a.text, b.text));
  return new PyFloat(plainNumber(a)! - plainNumber(b)!);
}

/** `round(float(change / first * 100), 2)`. */
function changePercentage(change: Num, first: Num): PyFloat | null {
  if (!plainNumber(first)) return null;
  if (change instanceof PyDecimal && first instanceof PyDecimal) {
    // Decimal(change / first * 100): the 28-digit quotient, shifted two places exactly.
    return new PyFloat(roundFloat(Number(`${divideDecimal(change.text, first.text, 28)}e2`), 2));
  }
  return new PyFloat(roundFloat((plainNumber(change)! / plainNumber(first)!) * 100, 2));
}

/** Where a study reads: the pool, or the one client a job holds its county's lock on. */
export type Queryable = pg.Pool | pg.PoolClient;

interface Scope {
  db: Queryable;
  binds: unknown[];
}

/** The studies both market-analysis doors run (legacy: market_analysis.analyse and market_analysis_studies.py). */
export class MarketStudies {
  constructor(private readonly pool: pg.Pool) {}

  private async rows(name: string, sql: string, scope: Scope): Promise<Row[]> {
    return (await scope.db.query<Row>({ name, text: sql, values: scope.binds })).rows;
  }

  private async priceTrend(scope: Scope): Promise<[Row, Row[]]> {
    const result = await this.rows('ma_trend', TREND_SQL, scope);
    const trends = result.filter((x) => x.period !== null).map((x) => ({
      zip_code: x.zip_code, period: x.period, sales_volume: x.sales_volume,
      average_price: r(x.average_price, 2), median_price: r(x.median_price, 2), price_per_sqft: r(x.price_per_sqft, 2),
    }));
    const zips: Row[] = [];
    for (const x of result) {
      if (x.zip_code === null || x.period !== null) continue;
      const periods = trends.filter((t) => t.zip_code === x.zip_code);
      const first = periods[0]!.average_price as Num;
      const last = periods[periods.length - 1]!.average_price as Num;
      const change = minus(last, first);
      zips.push({
        zip_code: x.zip_code, sales_volume: x.sales_volume, average_price: r(x.average_price, 2), median_price: r(x.median_price, 2),
        first_period: periods[0]!.period, last_period: periods[periods.length - 1]!.period,
        price_change: change, price_change_percentage: changePercentage(change, first),
      });
    }
    const overall = result.find((x) => x.zip_code === null && x.period === null)!;
    return [{
      data_points_analyzed: overall.sales_volume,
      date_range: { start_date: overall.first_sale ?? null, end_date: overall.last_sale ?? null },
      average_price: r(overall.average_price, 2), median_price: r(overall.median_price, 2), zip_codes: zips,
    }, trends];
  }

  private async comparableAreas(scope: Scope, primaryZip: string | null, minSimilarity: PyFloat): Promise<Row> {
    const result = await this.rows('ma_comparable', COMPARABLE_SQL, scope);
    if (result.length === 0) throw new JobFailed('Market analysis failed: no arms-length sales match the request');
    const primary = primaryZip === null ? result[0] : result.find((x) => x.zip_code === primaryZip);
    if (!primary) throw new JobFailed(`Market analysis failed: no arms-length sales in zip code ${primaryZip}`);
    const areas: Row[] = [];
    for (const x of result) {
      if (x === primary) continue;
      const score = similarity(primary, x);
      if (score !== null && score >= minSimilarity.value) {
        areas.push({ zip_code: x.zip_code, similarity_score: new PyFloat(score), sales_count: x.sales_count, median_price: r(x.median_price, 2), median_price_per_sqft: r(x.median_price_per_sqft, 2) });
      }
    }
    const zip = (row: Row) => String(row.zip_code);
    areas.sort((a, b) => (b.similarity_score as PyFloat).value - (a.similarity_score as PyFloat).value || (zip(a) < zip(b) ? -1 : zip(a) > zip(b) ? 1 : 0));
    return {
      primary_zip: primary.zip_code,
      primary: { sales_count: primary.sales_count, median_price: r(primary.median_price, 2), median_price_per_sqft: r(primary.median_price_per_sqft, 2) },
      min_similarity: minSimilarity, comparable_areas: areas, total_comparable_areas_found: areas.length, zip_codes_considered: result.length,
    };
  }

  private async ratioStudy(scope: Scope): Promise<Row> {
    const result = await this.rows('ma_ratio', RATIO_SQL, scope);
    const overall = result.find((x) => x.property_type === null);
    return { ...ratioStatistics(overall), by_property_type: result.filter((x) => x.property_type !== null).map((x) => ({ property_type: x.property_type, ...ratioStatistics(x) })) };
  }

  /** An overall row (key null) first, then one per key value: the summary and its `by_<key>` list. */
  private async grouped(name: string, sql: string, scope: Scope, key: string, list: string, figures: (row: Row) => Row): Promise<Row> {
    const result = await this.rows(name, sql, scope);
    const overall = result.find((x) => x[key] === null)!;
    return { ...figures(overall), [list]: result.filter((x) => x[key] !== null).map((x) => ({ [key]: x[key], ...figures(x) })) };
  }

  /** Runs one study (on `db` when given); the job columns it fills (legacy: market_analysis.analyse). */
  async analyse(type: string, countyId: string, p: Record<string, PyValue>, db: Queryable = this.pool): Promise<Row> {
    const scope: Scope = { db, binds: [countyId, p.start_date ?? null, p.end_date ?? null, p.zip_codes ?? null, p.property_types ?? null] };
    let summary: Row;
    let trends: Row[] | null = null;
    if (type === 'price_trend_by_zip') [summary, trends] = await this.priceTrend(scope);
    else if (type === 'comparable_market_area') {
      const min = p.min_similarity == null ? new PyFloat(DEFAULT_MIN_SIMILARITY) : (p.min_similarity as PyFloat);
      summary = await this.comparableAreas(scope, (p.zip_code as string | null) ?? null, min);
    } else if (type === 'sales_velocity') summary = await this.grouped('ma_velocity', VELOCITY_SQL, scope, 'zip_code', 'by_zip_code', velocity);
    else if (type === 'price_per_sqft') summary = await this.grouped('ma_per_sqft', PER_SQFT_SQL, scope, 'property_type', 'by_property_type', perSqft);
    else if (type === 'market_valuation') summary = await this.grouped('ma_valuation', VALUATION_SQL, scope, 'property_type', 'by_property_type', valuation);
    else summary = await this.ratioStudy(scope);
    return { result_summary_json: { result_summary: summary, trends } };
  }
}

export function registerMarketAnalysis(app: FastifyInstance, pool: pg.Pool, studies = new MarketStudies(pool)): JobStore {
  const store = new JobStore(pool, MARKET_ANALYSIS_JOBS);

  const statusBody = (row: Row): Row => ({
    job_id: row.job_id, county_id: row.county_id, analysis_type: row.analysis_type, status: row.status, message: row.message,
    parameters: row.parameters_json, created_at: row.created_at, updated_at: row.updated_at, started_at: row.started_at, completed_at: row.completed_at,
  });

  app.post(`${PREFIX}/run`, async (request, reply) => {
    const { values } = bodyModel(request, runRequest);
    const given = values.parameters as unknown as ModelValue | null;
    const parameters = given ? setValues(given) : null;
    const type = values.analysis_type as string;
    const countyId = values.county_id as string;
    const row = await store.createAndRun(
      { analysis_type: type, county_id: countyId, parameters_json: parameters },
      () => studies.analyse(type, countyId, given?.values ?? {}),
      'Market analysis completed successfully', 'Market analysis failed', 'Failed to start market analysis',
    );
    return sendPy(reply, 202, statusBody(row));
  });

  addStatusAndResultsRoutes(app, PREFIX, store, statusBody, (row) => {
    const stored = (row.result_summary_json ?? {}) as Record<string, PyValue>;
    return { result_summary: stored.result_summary ?? null, result_data_location: row.result_data_location ?? null, trends: stored.trends ?? null };
  }, ['job_id', 'county_id', 'analysis_type', 'status', 'message', 'parameters', 'created_at', 'updated_at', 'started_at', 'completed_at']);
  return store;
}

function similarity(primary: Row, other: Row): number | null {
  const pairs: Array<[PyValue | undefined, PyValue | undefined]> = [
    [primary.median_price, other.median_price],
    [primary.median_price_per_sqft, other.median_price_per_sqft],
  ];
  const gaps: number[] = [];
  for (const [a, b] of pairs) {
    const x = plainNumber(a);
    const y = plainNumber(b);
    if (x && b !== null && y !== undefined) gaps.push(Math.abs(y - x) / x);
  }
  if (gaps.length === 0) return null;
  let sum = 0;
  for (const g of gaps) sum += g; // Python's sum(): left to right from 0
  return roundFloat(Math.max(0.0, 1.0 - sum / gaps.length), 4);
}

function ratioStatistics(row: Row | undefined): Row {
  if (!row) {
    return { sales_count: 0, median_ratio: null, mean_ratio: null, weighted_mean_ratio: null, cod: null, prd: null, min_ratio: null, max_ratio: null, meets_iaao_standards: null };
  }
  const mean = row.mean_ratio as PyDecimal | null;
  const weighted = row.weighted_mean_ratio as PyDecimal | null;
  const prd = weighted && plainNumber(weighted) ? new PyDecimal(divideDecimal(mean!.text, weighted.text, 28)) : null;
  const median = r(row.median_ratio, 4);
  const cod = r(row.cod, 2);
  const medianValue = plainNumber(median);
  return {
    sales_count: row.sales_count, median_ratio: median, mean_ratio: r(mean, 4), weighted_mean_ratio: r(weighted, 4), cod, prd: r(prd, 4),
    min_ratio: r(row.min_ratio, 4), max_ratio: r(row.max_ratio, 4),
    meets_iaao_standards: {
      level: medianValue !== undefined && medianValue >= 0.9 && medianValue <= 1.1,
      uniformity: cod !== null && plainNumber(cod)! <= 15.0,
      vertical_equity: prd !== null && plainNumber(prd)! >= 0.98 && plainNumber(prd)! <= 1.03,
    },
  };
}
