/**
 * Exportable layers and formats. Reproduces legacy terrafusion_sync/gis/layers.py (LAYERS,
 * their fields and SQL) and the MEDIA_TYPES of gis/writers.py. Free of gdal-async so the
 * HTTP side can import it without loading GDAL.
 */
export type FieldKind = 'string' | 'real' | 'integer' | 'date';

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  /** Selected expression; numerics cast so the writer gets floats, as legacy's OGR does. */
  sql: string;
}

export interface LayerSource {
  name: string;
  table: string;
  idColumn: string;
  /** 2 polygonal, 1 linear: what a clipped geometry is reduced back to. */
  dimension: 1 | 2;
  fields: FieldSpec[];
}

const s = (name: string): FieldSpec => ({ name, kind: 'string', sql: name });
const r = (name: string): FieldSpec => ({ name, kind: 'real', sql: `${name}::float8` });
const i = (name: string): FieldSpec => ({ name, kind: 'integer', sql: name });

export const LAYERS: Record<string, LayerSource> = {
  parcels: {
    name: 'parcels', table: 'property_operational', idColumn: 'property_id', dimension: 2,
    fields: [
      s('property_id'), s('county_id'), s('parcel_number'), s('address'), s('city'), s('zip_code'), s('property_type'),
      s('zoning_code'), r('land_area_sqft'), r('building_area_sqft'), i('year_built'), i('bedrooms'), r('bathrooms'),
      r('assessed_land_value'), r('assessed_improvement_value'), r('assessed_total_value'), r('last_sale_price'),
      // ISO text, not OFTDate: drivers format dates differently (CSV writes 2020/05/01).
      s('last_sale_date'),
    ],
  },
  zoning: { name: 'zoning', table: 'zoning_areas', idColumn: 'zone_id', dimension: 2, fields: [s('zone_id'), s('county_id'), s('zone_code'), s('zone_name')] },
  roads: { name: 'roads', table: 'road_segments', idColumn: 'road_id', dimension: 1, fields: [s('road_id'), s('county_id'), s('road_name'), s('road_class')] },
};

/** A request the export cannot honour (unknown layer, bad area, bad CRS): fails the job with this message. */
export class ExportError extends Error {}

/** The requested layers in request order, duplicates dropped. */
export function resolveLayers(names: readonly string[]): LayerSource[] {
  const available = Object.keys(LAYERS).join(', ');
  const resolved: LayerSource[] = [];
  for (const name of names) {
    const source = LAYERS[name];
    if (!source) throw new ExportError(`Unknown layer '${name}'; available layers: ${available}`);
    if (!resolved.includes(source)) resolved.push(source);
  }
  if (resolved.length === 0) throw new ExportError(`No layers requested; available layers: ${available}`);
  return resolved;
}

export const EXPORT_FORMATS = ['GeoJSON', 'Shapefile', 'KML', 'GeoPackage', 'CSV'] as const;

export const MEDIA_TYPES: Record<string, string> = {
  geojson: 'application/geo+json',
  zip: 'application/zip',
  kml: 'application/vnd.google-earth.kml+xml',
  gpkg: 'application/geopackage+sqlite3',
  csv: 'text/csv',
};
