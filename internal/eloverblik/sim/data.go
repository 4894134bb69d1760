package sim

import (
	"strconv"
	"time"
)

// Profile is the shape of a simulated metering point's hourly values.
type Profile int

// Profiles. The digit after the 5713131 prefix of a simulated GSRN is the
// profile, so a GSRN alone says how its values are made (the benchmark
// generates readings for GSRNs no customer owns).
const (
	ProfileSolar     Profile = 1
	ProfileWind      Profile = 2
	ProfileHousehold Profile = 3
	ProfileBusiness  Profile = 4
)

// Production reports whether the profile is a production point (E18).
func (p Profile) Production() bool { return p == ProfileSolar || p == ProfileWind }

// gsrnPrefix is the GS1 company prefix shared by Danish metering points.
const gsrnPrefix = "5713131"

// Point is one simulated metering point.
type Point struct {
	GSRN             string
	CustomerKey      string
	Profile          Profile
	TypeOfMP         string // E18 production, E17 consumption
	TechnologyCode   string // production only
	FuelCode         string // production only
	Sector           string // DK1 or DK2, consistent with Postcode
	StreetCode       string
	StreetName       string
	BuildingNumber   string
	Postcode         string
	CityName         string
	MunicipalityCode string
}

type town struct{ postcode, city, municipality, sector string }

// towns covers both price areas; postcodes below 5000 are east of the Great
// Belt (DK2).
var towns = [...]town{
	{"8000", "Aarhus C", "751", "DK1"},
	{"7000", "Fredericia", "607", "DK1"},
	{"5000", "Odense C", "461", "DK1"},
	{"9000", "Aalborg", "851", "DK1"},
	{"6700", "Esbjerg", "561", "DK1"},
	{"7400", "Herning", "657", "DK1"},
	{"2100", "København Ø", "101", "DK2"},
	{"4000", "Roskilde", "265", "DK2"},
	{"3700", "Rønne", "400", "DK2"},
	{"4800", "Nykøbing F", "376", "DK2"},
	{"3000", "Helsingør", "217", "DK2"},
	{"2800", "Kongens Lyngby", "173", "DK2"},
}

var streets = [...]string{"Lærkevej", "Skovvej", "Møllevej", "Strandvejen", "Industrivej", "Vindmøllevej", "Solsikkevej", "Kirkegade"}

// Technology and fuel codes from datahub-technologies.csv (AIB EECS fact
// sheet 5): every pair is in the technology table, so labels resolve.
var (
	solarTechs = [...]string{"T010000", "T010100", "T010101", "T010102", "T010200"}
	windTechs  = [...]string{"T020000", "T020001", "T020002"}
)

const (
	fuelSolar = "F01040100"
	fuelWind  = "F01050100"
)

// fnv1a hashes s with FNV-1a 64; mix folds the seed and further values in
// (splitmix64 finaliser), so all derived values are pure functions of the
// seed and their inputs.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func mix(vals ...uint64) uint64 {
	var h uint64 = 0x9E3779B97F4A7C15
	for _, v := range vals {
		h ^= v + 0x9E3779B97F4A7C15 + (h << 6) + (h >> 2)
		h = splitmix(h)
	}
	return h
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// gs1Check computes the GS1 mod-10 check digit of the 17 data digits.
func gs1Check(digits string) byte {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// makeGSRN builds an 18-digit GSRN: prefix, profile digit, nine digits from
// h, check digit.
func makeGSRN(p Profile, h uint64) string {
	n := h % 1_000_000_000
	s := gsrnPrefix + strconv.Itoa(int(p))
	num := strconv.FormatUint(n, 10)
	for i := len(num); i < 9; i++ {
		s += "0"
	}
	s += num
	return s + string(gs1Check(s))
}

// ProfileOf returns the profile encoded in a simulated GSRN, and false for
// GSRNs the simulator did not make.
func ProfileOf(gsrn string) (Profile, bool) {
	if len(gsrn) != 18 || gsrn[:7] != gsrnPrefix {
		return 0, false
	}
	for i := 0; i < 18; i++ {
		if gsrn[i] < '0' || gsrn[i] > '9' {
			return 0, false
		}
	}
	p := Profile(gsrn[7] - '0')
	if p < ProfileSolar || p > ProfileBusiness || gs1Check(gsrn[:17]) != gsrn[17] {
		return 0, false
	}
	return p, true
}

// pointFor derives the attributes of a point from its GSRN (everything but
// the owner), so the same GSRN always looks the same.
func (s *Simulator) pointFor(gsrn string, p Profile, customerKey string) Point {
	h := mix(s.seed, fnv1a(gsrn), 1)
	t := towns[h%uint64(len(towns))]
	pt := Point{
		GSRN:             gsrn,
		CustomerKey:      customerKey,
		Profile:          p,
		TypeOfMP:         "E17",
		Sector:           t.sector,
		StreetCode:       strconv.Itoa(1000 + int((h>>8)%8000)),
		StreetName:       streets[(h>>20)%uint64(len(streets))],
		BuildingNumber:   strconv.Itoa(1 + int((h>>28)%180)),
		Postcode:         t.postcode,
		CityName:         t.city,
		MunicipalityCode: t.municipality,
	}
	switch p {
	case ProfileSolar:
		pt.TypeOfMP, pt.FuelCode = "E18", fuelSolar
		pt.TechnologyCode = solarTechs[(h>>36)%uint64(len(solarTechs))]
	case ProfileWind:
		pt.TypeOfMP, pt.FuelCode = "E18", fuelWind
		pt.TechnologyCode = windTechs[(h>>36)%uint64(len(windTechs))]
	}
	return pt
}

// derivePoints returns the customer's points, deriving and registering them
// on first use: 1–3 production points (solar or wind) and 1–3 consumption
// points (household or business). GSRNs come from hash(seed, customerKey,
// index); if one is already taken by another customer, the next candidate of
// the same hash sequence is used, so GSRNs never collide (the probe makes the
// result depend on which customer came first, which only matters for the
// one-in-10⁹ collision). Caller holds s.mu.
func (s *Simulator) derivePoints(customerKey string) []Point {
	if pts, ok := s.customers[customerKey]; ok {
		return pts
	}
	hc := mix(s.seed, fnv1a(customerKey))
	nProd := 1 + int(hc%3)
	nCons := 1 + int((hc>>8)%3)
	var pts []Point
	for i := 0; i < nProd+nCons; i++ {
		hi := mix(s.seed, fnv1a(customerKey), uint64(i)+100)
		var p Profile
		if i < nProd {
			p = ProfileSolar
			if hi%5 >= 3 { // 60 % solar, 40 % wind
				p = ProfileWind
			}
		} else {
			p = ProfileHousehold
			if hi%10 >= 7 { // 70 % household, 30 % business
				p = ProfileBusiness
			}
		}
		var gsrn string
		for probe := uint64(0); ; probe++ {
			gsrn = makeGSRN(p, mix(hi, probe))
			if _, taken := s.owners[gsrn]; !taken {
				break
			}
		}
		s.owners[gsrn] = customerKey
		pts = append(pts, s.pointFor(gsrn, p, customerKey))
	}
	s.customers[customerKey] = pts
	return pts
}

// isin is a sine in Q16 fixed point: phase is a fraction of a full turn in
// 1/65536 units (any value, taken modulo 65536); the result is in
// [-65536, 65536]. It uses Bhaskara I's approximation (error < 0.2 %), in
// integers only, so simulated values are identical on every platform (float
// code may be fused differently per architecture).
func isin(phase int64) int64 {
	ph := phase & 0xFFFF
	neg := ph >= 0x8000
	u := (ph & 0x7FFF) << 1 // fraction of a half turn, Q16
	p := u * (65536 - u) >> 16
	v := (16 * p << 16) / (5*65536 - 4*p)
	if neg {
		return -v
	}
	return v
}

func clampQ(v, lo, hi int64) int64 { return max(lo, min(hi, v)) }

// Wh returns the simulated energy of gsrn in the hour starting at begin
// (truncated to the hour): a pure function of (seed, gsrn, hour). It is 0
// for GSRNs the simulator did not make.
func (s *Simulator) Wh(gsrn string, begin time.Time) int64 {
	p, ok := ProfileOf(gsrn)
	if !ok {
		return 0
	}
	g := mix(s.seed, fnv1a(gsrn))
	return s.wh(p, g, begin.Truncate(time.Hour).Unix())
}

// wh is Wh for a known profile and GSRN hash; unix is the hour's start.
func (s *Simulator) wh(p Profile, g uint64, unix int64) int64 {
	hour := unix / 3600
	utc := time.Unix(unix, 0).UTC()
	doy := int64(utc.YearDay() - 1)
	// season: +1 at the summer solstice, −1 at the winter solstice (Q16).
	season := isin((doy - 80) * 65536 / 365)
	noise := int64(mix(g, uint64(hour))%2001) - 1000 // ±1000 per mille
	switch p {
	case ProfileSolar:
		kWp := capacityKW(p, g)
		dayLen := 720 + 330*season/65536 // minutes of daylight
		// Minutes of solar time at the middle of the hour: Denmark is about
		// 10° E, 40 minutes ahead of UTC.
		m := (unix%86400)/60 + 30 + 40
		sunrise := 720 - dayLen/2
		if m <= sunrise || m >= sunrise+dayLen {
			return 0
		}
		elev := isin((m - sunrise) * 32768 / dayLen)
		shape := elev * elev >> 16
		peak := 19661 + (45875*(65536+season))>>17
		cloud := 36045 + (16384*isin(hour*65536/55+int64(g>>20)))>>16 + (9830*isin(hour*65536/141+int64(g>>36)))>>16 + (3277*noise)/1000
		cloud = clampQ(cloud, 6554, 65536)
		v := kWp * 850 // Wh at full sun
		v = v * shape >> 16
		v = v * peak >> 16
		return v * cloud >> 16
	case ProfileWind:
		kW := capacityKW(p, g)
		f := 29491 + (13107*isin(hour*65536/31+int64(g>>16)))>>16 + (9830*isin(hour*65536/97+int64(g>>32)))>>16 +
			(6554*isin(hour*65536/263+int64(g>>48)))>>16 - (5243*season)>>16 + (1966*noise)/1000
		f = clampQ(f, 0, 65536)
		power := f * f >> 16 * f >> 16 // cubic power curve below rated speed
		power = min(65536, power*3/2)
		return kW * 1000 * power >> 16
	case ProfileHousehold, ProfileBusiness:
		local := utc.In(s.loc)
		h := local.Hour()
		var shape, mean, annualKWh int64
		if p == ProfileHousehold {
			annualKWh = s.estimatedAnnualKWh(p, g)
			shape, mean = householdShape[h], 88
		} else {
			annualKWh = s.estimatedAnnualKWh(p, g)
			wd := local.Weekday()
			switch {
			case wd == time.Saturday || wd == time.Sunday:
				shape = 40
			case h >= 7 && h < 17:
				shape = 200
			default:
				shape = 45
			}
			mean = 94
		}
		avg := annualKWh * 1000 / 8760 // Wh in an average hour
		v := avg * shape / mean
		v = v * (65536 - (16384*season)>>16) >> 16 // more in winter
		return max(0, v*(1000+noise/7)/1000)
	}
	return 0
}

// capacityKW is a production point's capacity: 4–403 kWp of solar panels,
// or a 0.5–4 MW wind turbine; 0 for consumption.
func capacityKW(p Profile, g uint64) int64 {
	switch p {
	case ProfileSolar:
		return 4 + int64(g%400)
	case ProfileWind:
		return 500 + int64(g%3500)
	}
	return 0
}

// estimatedAnnualKWh is the yearly volume shown in the details record.
func (s *Simulator) estimatedAnnualKWh(p Profile, g uint64) int64 {
	switch p {
	case ProfileSolar:
		return capacityKW(p, g) * 950 // Danish yield, kWh per kWp
	case ProfileWind:
		return capacityKW(p, g) * 2600 // about 30 % capacity factor
	case ProfileHousehold:
		return 2500 + int64(g%4500)
	}
	return 40_000 + int64(g%560_000)
}

// householdShape is relative household use per local hour (mean ≈ 88):
// low at night, a morning peak and a larger evening peak.
var householdShape = [24]int64{50, 40, 35, 35, 35, 45, 80, 120, 110, 80, 70, 70, 75, 70, 70, 80, 110, 160, 180, 170, 150, 130, 100, 70}

// reading returns what the API sends for the hour starting at unix: hours
// from estFrom on are provisional estimates (A03, off by up to ±10 %);
// older hours carry the final value, measured (A04) except for 0.5 % that
// stay estimated (A03) for good, as happens upstream.
func (s *Simulator) reading(p Profile, g uint64, unix, estFrom int64) (int64, string) {
	wh := s.wh(p, g, unix)
	hour := unix / 3600
	if unix >= estFrom {
		off := int64(mix(g, uint64(hour), 11)%201) - 100 // ±100 per mille
		return max(0, wh+wh*off/1000), "A03"
	}
	if mix(g, uint64(hour), 7)%1000 < 5 {
		return wh, "A03"
	}
	return wh, "A04"
}

// estimatesFrom is the Unix time from which hours are still estimates.
func (s *Simulator) estimatesFrom() int64 {
	if s.estimate <= 0 {
		return 1<<63 - 1
	}
	return s.now().Add(-s.estimate).Truncate(time.Hour).Unix()
}

// Reading returns the energy and quality the API sends now for gsrn's hour
// starting at begin (see Options.EstimateWindow); Wh is the final value.
func (s *Simulator) Reading(gsrn string, begin time.Time) (wh int64, quality string) {
	p, ok := ProfileOf(gsrn)
	if !ok {
		return 0, ""
	}
	return s.reading(p, mix(s.seed, fnv1a(gsrn)), begin.Truncate(time.Hour).Unix(), s.estimatesFrom())
}
