DROP TABLE metering_points;
