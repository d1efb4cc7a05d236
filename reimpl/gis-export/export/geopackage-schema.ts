/**
 * The SQL of a GeoPackage as GDAL 3.6's GPKG driver creates it (legacy
 * terrafusion_sync/gis/writers.py GeoPackageSink): the metadata tables and their triggers, and
 * per feature table its DDL, its rtree spatial index with the triggers that keep it, and the
 * feature-count triggers of gpkg_ogr_contents. Copied from a file legacy wrote, so GDAL reads
 * ours as it reads legacy's.
 */
import type { FieldKind } from './formats.js';

/** PRAGMA application_id of a GeoPackage ('GPKG') and user_version of GeoPackage 1.2. */
export const GPKG_APPLICATION_ID = 0x47504b47;
export const GPKG_USER_VERSION = 10200;

export const WGS84_SRS_ID = 4326;

const tileMatrixTrigger = (column: string, verb: 'insert' | 'update', rule: string, message: string) =>
  `CREATE TRIGGER 'gpkg_tile_matrix_${column}_${verb}' BEFORE ${verb.toUpperCase()}${verb === 'update' ? ` ${column === 'zoom_level' ? 'of' : 'OF'} ${column}` : ''} ON 'gpkg_tile_matrix' FOR EACH ROW BEGIN SELECT RAISE(ABORT, '${verb} on table ''gpkg_tile_matrix'' violates constraint: ${column} ${message}') WHERE ${rule}; END`;

const TILE_MATRIX_RULES: [string, string, string][] = [
  ['zoom_level', '(NEW.zoom_level < 0)', 'cannot be less than 0'],
  ['matrix_width', '(NEW.matrix_width < 1)', 'cannot be less than 1'],
  ['matrix_height', '(NEW.matrix_height < 1)', 'cannot be less than 1'],
  ['pixel_x_size', 'NOT (NEW.pixel_x_size > 0)', 'must be greater than 0'],
  ['pixel_y_size', 'NOT (NEW.pixel_y_size > 0)', 'must be greater than 0'],
];

/** The metadata tables every GeoPackage GDAL creates holds, in GDAL's order. */
export const METADATA_DDL: readonly string[] = [
  'CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL,srs_id INTEGER NOT NULL PRIMARY KEY,organization TEXT NOT NULL,organization_coordsys_id INTEGER NOT NULL,definition  TEXT NOT NULL,description TEXT)',
  "CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,data_type TEXT NOT NULL,identifier TEXT UNIQUE,description TEXT DEFAULT '',last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),min_x DOUBLE, min_y DOUBLE,max_x DOUBLE, max_y DOUBLE,srs_id INTEGER,CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))",
  'CREATE TABLE gpkg_ogr_contents(table_name TEXT NOT NULL PRIMARY KEY,feature_count INTEGER DEFAULT NULL)',
  'CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL,column_name TEXT NOT NULL,geometry_type_name TEXT NOT NULL,srs_id INTEGER NOT NULL,z TINYINT NOT NULL,m TINYINT NOT NULL,CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),CONSTRAINT uk_gc_table_name UNIQUE (table_name),CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))',
  'CREATE TABLE gpkg_tile_matrix_set (table_name TEXT NOT NULL PRIMARY KEY,srs_id INTEGER NOT NULL,min_x DOUBLE NOT NULL,min_y DOUBLE NOT NULL,max_x DOUBLE NOT NULL,max_y DOUBLE NOT NULL,CONSTRAINT fk_gtms_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),CONSTRAINT fk_gtms_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))',
  'CREATE TABLE gpkg_tile_matrix (table_name TEXT NOT NULL,zoom_level INTEGER NOT NULL,matrix_width INTEGER NOT NULL,matrix_height INTEGER NOT NULL,tile_width INTEGER NOT NULL,tile_height INTEGER NOT NULL,pixel_x_size DOUBLE NOT NULL,pixel_y_size DOUBLE NOT NULL,CONSTRAINT pk_ttm PRIMARY KEY (table_name, zoom_level),CONSTRAINT fk_tmm_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name))',
  ...TILE_MATRIX_RULES.flatMap(([column, rule, message]) => [tileMatrixTrigger(column, 'insert', rule, message), tileMatrixTrigger(column, 'update', rule, message)]),
];

/** gpkg_spatial_ref_sys as GDAL fills it for an EPSG:4326 layer. */
export const SPATIAL_REF_SYS: readonly (readonly [string, number, string, number, string, string])[] = [
  ['Undefined Cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined Cartesian coordinate reference system'],
  ['Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'],
  [
    'WGS 84 geodetic', 4326, 'EPSG', 4326,
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]',
    'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid',
  ],
];

export const EXTENSIONS_DDL =
  'CREATE TABLE gpkg_extensions (table_name TEXT,column_name TEXT,extension_name TEXT NOT NULL,definition TEXT NOT NULL,scope TEXT NOT NULL,CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))';

const SQL_TYPE: Record<FieldKind, string> = { string: 'TEXT', real: 'REAL', integer: 'MEDIUMINT', date: 'DATE' };

/** CREATE TABLE of a feature table: fid, geom, then the fields. */
export function featureTableDdl(table: string, geometryType: string, fields: readonly { name: string; kind: FieldKind }[]): string {
  const columns = fields.map((f) => `, "${f.name}" ${SQL_TYPE[f.kind]}`).join('');
  return `CREATE TABLE "${table}" ( "fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "geom" ${geometryType}${columns})`;
}

/** The rtree of a feature table's geom column. */
export function rtreeDdl(table: string): string {
  return `CREATE VIRTUAL TABLE "rtree_${table}_geom" USING rtree(id, minx, maxx, miny, maxy)`;
}

/**
 * The triggers GDAL leaves on a feature table (rtree upkeep, gpkg_ogr_contents counts). They
 * call GDAL's SQL functions (ST_IsEmpty, ST_MinX...), so they are created after the rows are
 * in: SQLite resolves a trigger's functions only when a statement fires it.
 */
export function featureTableTriggers(table: string): string[] {
  const rtree = `"rtree_${table}_geom"`;
  const values = `VALUES (NEW."fid",ST_MinX(NEW."geom"), ST_MaxX(NEW."geom"),ST_MinY(NEW."geom"), ST_MaxY(NEW."geom"))`;
  const name = (suffix: string) => `"rtree_${table}_geom_${suffix}"`;
  return [
    `CREATE TRIGGER ${name('insert')} AFTER INSERT ON "${table}" WHEN (new."geom" NOT NULL AND NOT ST_IsEmpty(NEW."geom")) BEGIN INSERT OR REPLACE INTO ${rtree} ${values}; END`,
    `CREATE TRIGGER ${name('update1')} AFTER UPDATE OF "geom" ON "${table}" WHEN OLD."fid" = NEW."fid" AND (NEW."geom" NOTNULL AND NOT ST_IsEmpty(NEW."geom")) BEGIN INSERT OR REPLACE INTO ${rtree} ${values}; END`,
    `CREATE TRIGGER ${name('update2')} AFTER UPDATE OF "geom" ON "${table}" WHEN OLD."fid" = NEW."fid" AND (NEW."geom" ISNULL OR ST_IsEmpty(NEW."geom")) BEGIN DELETE FROM ${rtree} WHERE id = OLD."fid"; END`,
    `CREATE TRIGGER ${name('update3')} AFTER UPDATE ON "${table}" WHEN OLD."fid" != NEW."fid" AND (NEW."geom" NOTNULL AND NOT ST_IsEmpty(NEW."geom")) BEGIN DELETE FROM ${rtree} WHERE id = OLD."fid"; INSERT OR REPLACE INTO ${rtree} ${values}; END`,
    `CREATE TRIGGER ${name('update4')} AFTER UPDATE ON "${table}" WHEN OLD."fid" != NEW."fid" AND (NEW."geom" ISNULL OR ST_IsEmpty(NEW."geom")) BEGIN DELETE FROM ${rtree} WHERE id IN (OLD."fid", NEW."fid"); END`,
    `CREATE TRIGGER ${name('delete')} AFTER DELETE ON "${table}" WHEN old."geom" NOT NULL BEGIN DELETE FROM ${rtree} WHERE id = OLD."fid"; END`,
    `CREATE TRIGGER "trigger_insert_feature_count_${table}" AFTER INSERT ON "${table}" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1 WHERE lower(table_name) = lower('${table}'); END`,
    `CREATE TRIGGER "trigger_delete_feature_count_${table}" AFTER DELETE ON "${table}" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1 WHERE lower(table_name) = lower('${table}'); END`,
  ];
}
