"""The real GIS export behind the gis_export plugin: layer sources, geometry shaping, OGR writers."""
