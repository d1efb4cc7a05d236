/**
 * The legacy assessment systems a county can come from, and how each one's property fields map
 * onto TerraFusion's (the `mappings.property` block of county.json, which legacy sync serves at
 * /counties/{id}). PACS and Tyler iasWorld are the sample counties' (benton, franklin).
 */

/** TerraFusion's property fields, in the order the sample counties list them. */
export const terrafusionPropertyFields = [
  'property_id',
  'parcel_number',
  'address',
  'property_type',
  'assessed_land_value',
  'assessed_improvement_value',
  'assessed_total_value',
] as const;

export type TerrafusionPropertyField = (typeof terrafusionPropertyFields)[number];

export interface LegacySystem {
  /** What `--legacy-system` takes. */
  id: string;
  /** What county.json's `legacy_system_type` says (and sync's /counties shows). */
  displayName: string;
  /** Where the fields live in that system. */
  sourceTable: string;
  /** The system database's usual port, the default of --db-port. */
  defaultPort: number;
  /** legacy field -> TerraFusion field. */
  fields: Readonly<Record<string, TerrafusionPropertyField>>;
}

export const legacySystems: readonly LegacySystem[] = [
  {
    id: 'PACS',
    displayName: 'PACS',
    sourceTable: 'property_val (PACS OLTP, SQL Server)',
    defaultPort: 1433,
    fields: {
      prop_id: 'property_id',
      geo_id: 'parcel_number',
      situs_display: 'address',
      property_use_cd: 'property_type',
      land_hstd_val: 'assessed_land_value',
      imprv_hstd_val: 'assessed_improvement_value',
      market: 'assessed_total_value',
    },
  },
  {
    id: 'TYLER',
    displayName: 'Tyler iasWorld',
    sourceTable: 'PARDAT / ASMT (iasWorld, Oracle)',
    defaultPort: 1521,
    fields: {
      PARID: 'property_id',
      PARCELNUM: 'parcel_number',
      ADRSTR: 'address',
      CLASS: 'property_type',
      APRLAND: 'assessed_land_value',
      APRBLDG: 'assessed_improvement_value',
      APRTOT: 'assessed_total_value',
    },
  },
  {
    id: 'PATRIOT',
    displayName: 'Patriot Properties AssessPro',
    sourceTable: 'Parcel / Valuation (AssessPro, SQL Server)',
    defaultPort: 1433,
    fields: {
      PID: 'property_id',
      ParcelID: 'parcel_number',
      LocationAddress: 'address',
      LandUseCode: 'property_type',
      LandValue: 'assessed_land_value',
      BuildingValue: 'assessed_improvement_value',
      TotalValue: 'assessed_total_value',
    },
  },
  {
    id: 'CSV',
    displayName: 'CSV Import',
    sourceTable: 'a CSV export with a header row',
    defaultPort: 5432,
    fields: {
      id: 'property_id',
      parcel: 'parcel_number',
      addr: 'address',
      type: 'property_type',
      land_value: 'assessed_land_value',
      improvement_value: 'assessed_improvement_value',
      total_value: 'assessed_total_value',
    },
  },
];

export function findLegacySystem(id: string): LegacySystem | undefined {
  return legacySystems.find((system) => system.id === id.toUpperCase());
}
