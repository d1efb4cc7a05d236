-- Reference data of the TerraFusion platform: what every implementation reads and
-- nothing in the request path writes. Shadow instances read these from `public`.
CREATE TABLE IF NOT EXISTS property_operational (
    property_id              varchar(64) PRIMARY KEY,
    county_id                varchar(50) NOT NULL,
    parcel_number            varchar(32) NOT NULL,
    address                  varchar(255),
    city                     varchar(100),
    zip_code                 varchar(10),
    property_type            varchar(30) NOT NULL,
    zoning_code              varchar(20),
    land_area_sqft           double precision,
    building_area_sqft       double precision,
    year_built               integer,
    bedrooms                 integer,
    bathrooms                numeric(3,1),
    assessed_land_value      numeric(14,2),
    assessed_improvement_value numeric(14,2),
    assessed_total_value     numeric(14,2),
    last_sale_price          numeric(14,2),
    last_sale_date           date,
    -- Geometry as GeoJSON text in EPSG:4326 (PostGIS is optional in production);
    -- the bounding box columns let the export prefilter an area of interest by index.
    geometry                 text,
    min_x double precision, min_y double precision,
    max_x double precision, max_y double precision,
    created_at               timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at               timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);
CREATE INDEX IF NOT EXISTS ix_property_operational_county_id ON property_operational (county_id);
CREATE INDEX IF NOT EXISTS ix_property_operational_property_type ON property_operational (county_id, property_type);
CREATE INDEX IF NOT EXISTS ix_property_operational_bbox ON property_operational (county_id, min_x, max_x, min_y, max_y);

CREATE TABLE IF NOT EXISTS property_sales (
    sale_id      bigserial PRIMARY KEY,
    property_id  varchar(64) NOT NULL,
    county_id    varchar(50) NOT NULL,
    sale_date    date NOT NULL,
    sale_price   numeric(14,2) NOT NULL,
    sale_type    varchar(30) NOT NULL DEFAULT 'arms_length'
);
CREATE INDEX IF NOT EXISTS ix_property_sales_property ON property_sales (property_id);
CREATE INDEX IF NOT EXISTS ix_property_sales_county_date ON property_sales (county_id, sale_date);

CREATE TABLE IF NOT EXISTS zoning_areas (
    zone_id     varchar(64) PRIMARY KEY,
    county_id   varchar(50) NOT NULL,
    zone_code   varchar(20) NOT NULL,
    zone_name   varchar(100),
    geometry    text NOT NULL,
    min_x double precision, min_y double precision,
    max_x double precision, max_y double precision
);
CREATE INDEX IF NOT EXISTS ix_zoning_areas_county_bbox ON zoning_areas (county_id, min_x, max_x, min_y, max_y);

CREATE TABLE IF NOT EXISTS road_segments (
    road_id     varchar(64) PRIMARY KEY,
    county_id   varchar(50) NOT NULL,
    road_name   varchar(100) NOT NULL,
    road_class  varchar(20) NOT NULL,
    geometry    text NOT NULL,
    min_x double precision, min_y double precision,
    max_x double precision, max_y double precision
);
CREATE INDEX IF NOT EXISTS ix_road_segments_county_bbox ON road_segments (county_id, min_x, max_x, min_y, max_y);
