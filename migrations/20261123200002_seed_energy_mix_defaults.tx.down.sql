DELETE FROM energy_mix_defaults WHERE source LIKE 'default: OriginHub indicative % mix v1 %';
