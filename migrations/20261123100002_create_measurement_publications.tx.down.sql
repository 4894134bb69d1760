DROP TABLE measurement_publications;
