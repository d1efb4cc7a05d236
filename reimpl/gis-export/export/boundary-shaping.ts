/**
 * Features that cross the edge of the area of interest are clipped, simplified and
 * reprojected by GDAL/GEOS, exactly as legacy's FeatureShaper (terrafusion_sync/gis/
 * exporter.py) does; a TypeScript clip would have to reproduce GEOS's ring starts and
 * orientation to keep the files byte-identical (decision 0010). GDAL costs ~100 MiB once
 * loaded, so the export service asks its export worker (worker-main.ts) to shape
 * them, a batch at a time; the HTTP process never loads GDAL for an export.
 */
import type { Shaped } from './text-export.js';
import { readWkb } from './wkb.js';

/** One feature for GDAL to shape: its GeoJSON geometry text, dimension and bbox. */
export interface BoundaryFeature {
  text: string;
  dimension: number;
  bbox: readonly (number | null)[];
}

/** Shapes a batch of boundary features; null where the clip leaves nothing. */
export interface BoundaryShaper {
  shapeMany(features: readonly BoundaryFeature[]): Promise<(Shaped | null)[]>;
}

/** The boundary shaper of one export: its area of interest and tolerance. */
export type BoundaryShaping = (areaOfInterest: unknown, tolerance: number) => BoundaryShaper;

/** GDAL's shaping in this process (loads GDAL): what the export worker runs for a batch. */
export async function gdalShaper(areaOfInterest: unknown, tolerance: number): Promise<(feature: BoundaryFeature) => Shaped | null> {
  const { FeatureShaper, parseAreaOfInterest, WGS84 } = await import('./geometry.js');
  const shaper = new FeatureShaper(parseAreaOfInterest(areaOfInterest), tolerance, WGS84);
  return ({ text, dimension, bbox }) => {
    const geometry = shaper.shape(text, dimension, bbox);
    if (!geometry) return null;
    // Exact doubles through WKB; any other geometry type as GDAL's JSON has it.
    return readWkb(geometry.toWKB()) ?? (geometry.toObject() as Shaped);
  };
}
