-- Job tables of the sync service plugins. Applied to `public` for serving instances and
-- to each shadow schema, so a shadowed write never lands in the serving tables.
CREATE TABLE IF NOT EXISTS gis_export_jobs (
    job_id               varchar(36) PRIMARY KEY,
    export_format        varchar(50) NOT NULL,
    county_id            varchar(50) NOT NULL,
    area_of_interest_json json,
    layers_json          json,
    status               varchar(20) NOT NULL DEFAULT 'PENDING',
    message              text,
    parameters_json      json,
    created_at           timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at           timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    started_at           timestamp,
    completed_at         timestamp,
    result_file_location varchar(255),
    result_file_size_kb  integer,
    result_record_count  integer
);
CREATE INDEX IF NOT EXISTS ix_gis_export_jobs_county_id ON gis_export_jobs (county_id);
CREATE INDEX IF NOT EXISTS ix_gis_export_jobs_export_format ON gis_export_jobs (export_format);
CREATE INDEX IF NOT EXISTS ix_gis_export_jobs_status ON gis_export_jobs (status);
CREATE INDEX IF NOT EXISTS ix_gis_export_jobs_created_at ON gis_export_jobs (created_at DESC);

CREATE TABLE IF NOT EXISTS report_jobs (
    report_id            varchar(36) PRIMARY KEY,
    report_type          varchar(100) NOT NULL,
    county_id            varchar(50) NOT NULL,
    status               varchar(20) NOT NULL DEFAULT 'PENDING',
    message              text,
    parameters_json      json,
    created_at           timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at           timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    started_at           timestamp,
    completed_at         timestamp,
    result_location      varchar(255),
    result_metadata_json json
);
CREATE INDEX IF NOT EXISTS ix_report_jobs_county_id ON report_jobs (county_id);
CREATE INDEX IF NOT EXISTS ix_report_jobs_status ON report_jobs (status);

CREATE TABLE IF NOT EXISTS market_analysis_jobs (
    job_id               varchar(36) PRIMARY KEY,
    analysis_type        varchar(100) NOT NULL,
    county_id            varchar(50) NOT NULL,
    status               varchar(20) NOT NULL DEFAULT 'PENDING',
    message              text,
    parameters_json      json,
    created_at           timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at           timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    started_at           timestamp,
    completed_at         timestamp,
    result_summary_json  json,
    result_data_location varchar(255)
);
CREATE INDEX IF NOT EXISTS ix_market_analysis_jobs_county_id ON market_analysis_jobs (county_id);
CREATE INDEX IF NOT EXISTS ix_market_analysis_jobs_status ON market_analysis_jobs (status);

CREATE TABLE IF NOT EXISTS valuation_jobs (
    job_id               varchar(36) PRIMARY KEY,
    property_id          varchar(64),
    county_id            varchar(50) NOT NULL,
    valuation_method     varchar(50) NOT NULL,
    status               varchar(20) NOT NULL DEFAULT 'PENDING',
    message              text,
    parameters_json      json,
    created_at           timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at           timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    started_at           timestamp,
    completed_at         timestamp,
    result_json          json
);
CREATE INDEX IF NOT EXISTS ix_valuation_jobs_county_id ON valuation_jobs (county_id);
CREATE INDEX IF NOT EXISTS ix_valuation_jobs_status ON valuation_jobs (status);
