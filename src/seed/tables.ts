/**
 * The four reference tables of a seeded county as lazy streams of COPY text rows, with the
 * column lists they are copied into. Sales are a second pass over the same parcels (each
 * parcel regenerates identically), which keeps memory flat instead of buffering a million
 * sales until the parcels are in.
 */
import { copyRow, copyText, money } from './copy-text.js';
import { lineText, polygonText } from './geojson.js';
import type { GridPlan } from './grid-plan.js';
import { assessmentDate, saleDate } from './market.js';
import { generateParcels } from './parcels.js';
import { squareFeetPerSquareMetre } from './appraisal.js';
import { zones, type ZoneIndex } from './zoning.js';

export type SeedTable = 'property_operational' | 'property_sales' | 'zoning_areas' | 'road_segments';

export const copyColumns: Record<SeedTable, readonly string[]> = {
  property_operational: [
    'property_id', 'county_id', 'parcel_number', 'address', 'city', 'zip_code', 'property_type', 'zoning_code',
    'land_area_sqft', 'building_area_sqft', 'year_built', 'bedrooms', 'bathrooms',
    'assessed_land_value', 'assessed_improvement_value', 'assessed_total_value', 'last_sale_price', 'last_sale_date',
    'geometry', 'min_x', 'min_y', 'max_x', 'max_y', 'created_at', 'updated_at',
  ],
  // sale_id is the table's bigserial: a surrogate the generator leaves to the database.
  property_sales: ['property_id', 'county_id', 'sale_date', 'sale_price', 'sale_type'],
  zoning_areas: ['zone_id', 'county_id', 'zone_code', 'zone_name', 'geometry', 'min_x', 'min_y', 'max_x', 'max_y'],
  road_segments: ['road_id', 'county_id', 'road_name', 'road_class', 'geometry', 'min_x', 'min_y', 'max_x', 'max_y'],
};

const nullable = (value: number | null) => (value === null ? '\\N' : String(value));

/** Rows are "as of" the assessment date, not the wall clock, so re-seeding is byte-identical. */
const recordedAt = `${assessmentDate} 00:00:00`;

export function* parcelRows(plan: GridPlan): Generator<string> {
  const { countyId, city } = plan.county;
  const cityText = copyText(city);
  for (const parcel of generateParcels(plan)) {
    const a = parcel.appraisal;
    const last = a.sales[a.sales.length - 1];
    const geo = polygonText(plan, parcel.lot.parts);
    const sqft = Math.round(parcel.lot.areaM2 * squareFeetPerSquareMetre * 10) / 10;
    // Built by hand rather than with copyRow: this is the hot loop, and only the address and
    // city can hold characters COPY must escape; numbers and generated codes never do.
    yield `${parcel.propertyId}\t${countyId}\t${parcel.parcelNumber}\t${copyText(parcel.address)}\t${cityText}\t${parcel.zipCode}\t${a.propertyType}\t${parcel.zoningCode}\t${sqft}\t${a.buildingAreaSqft}\t${nullable(a.yearBuilt)}\t${nullable(a.bedrooms)}\t${a.bathrooms === null ? '\\N' : a.bathrooms.toFixed(1)}\t${a.landValue}.00\t${a.improvementValue}.00\t${a.landValue + a.improvementValue}.00\t${last ? `${last.price}.00` : '\\N'}\t${last ? saleDate(last.day) : '\\N'}\t${geo.json}\t${geo.minX}\t${geo.minY}\t${geo.maxX}\t${geo.maxY}\t${recordedAt}\t${recordedAt}\n`;
  }
}

export function* saleRows(plan: GridPlan): Generator<string> {
  const { countyId } = plan.county;
  for (const parcel of generateParcels(plan)) {
    for (const sale of parcel.appraisal.sales) {
      yield `${parcel.propertyId}\t${countyId}\t${saleDate(sale.day)}\t${money(sale.price)}\t${sale.saleType}\n`;
    }
  }
}

/** One rectangle per run of same-zone blocks along a block row, centreline to centreline: the districts tile the grid. */
export function* zoningRows(plan: GridPlan): Generator<string> {
  const { countyId } = plan.county;
  for (let j = 0; j < plan.rows; j++) {
    let run = 0;
    for (let i0 = 0; i0 < plan.columns; ) {
      const zone = plan.zones[j * plan.columns + i0]!;
      let i1 = i0;
      while (i1 + 1 < plan.columns && plan.zones[j * plan.columns + i1 + 1] === zone) i1++;
      const x0 = plan.xs[i0]!;
      const x1 = plan.xs[i1 + 1]!;
      const y0 = plan.ys[j]!;
      const y1 = plan.ys[j + 1]!;
      const geo = polygonText(plan, [[x0, y0, x1, y0, x1, y1, x0, y1]]);
      const district = zones[zone as ZoneIndex];
      yield copyRow([`${countyId}-Z${String(j).padStart(5, '0')}-${String(run).padStart(3, '0')}`, countyId, district.code, district.name, geo.json, geo.minX, geo.minY, geo.maxX, geo.maxY]);
      run++;
      i0 = i1 + 1;
    }
  }
}

/** One LineString per street segment between intersections; avenue names carry the W/E prefix the addresses use. */
export function* roadRows(plan: GridPlan): Generator<string> {
  const { countyId } = plan.county;
  for (let k = 0; k <= plan.rows; k++) {
    for (let i = 0; i < plan.columns; i++) {
      const name = `${i >= plan.centreColumn ? 'E' : 'W'} ${plan.avenueNames[k]!}`;
      const geo = lineText(plan, plan.xs[i]!, plan.ys[k]!, plan.xs[i + 1]!, plan.ys[k]!);
      yield copyRow([`${countyId}-AVE-${k}-${i}`, countyId, name, plan.avenueClasses[k]!, geo.json, geo.minX, geo.minY, geo.maxX, geo.maxY]);
    }
  }
  for (let k = 0; k <= plan.columns; k++) {
    for (let j = 0; j < plan.rows; j++) {
      const name = `${j >= plan.centreRow ? 'N' : 'S'} ${plan.streetNames[k]!}`;
      const geo = lineText(plan, plan.xs[k]!, plan.ys[j]!, plan.xs[k]!, plan.ys[j + 1]!);
      yield copyRow([`${countyId}-ST-${k}-${j}`, countyId, name, plan.streetClasses[k]!, geo.json, geo.minX, geo.minY, geo.maxX, geo.maxY]);
    }
  }
}
