package declaration

import (
	"math/big"
	"strings"
)

// Ratio is an exact fraction Num/Den, such as a matched share or an intensity. It is
// formatted with integer arithmetic, so no float rounding ever shows.
type Ratio struct {
	Num, Den int64
}

// Defined reports whether the ratio has a non-zero denominator.
func (r Ratio) Defined() bool { return r.Den != 0 }

// Decimal formats the ratio with places decimals, rounding half away from zero; "n/a" when
// the denominator is zero.
func (r Ratio) Decimal(places int) string {
	if r.Den == 0 {
		return "n/a"
	}
	return formatScaled(r.scaled(places), places)
}

// Percent formats the ratio as a percentage with places decimals ("31.57"), without the sign.
func (r Ratio) Percent(places int) string {
	if r.Den == 0 {
		return "n/a"
	}
	return formatScaled(r.scaledBy(places, 2), places)
}

// PPM is the ratio in parts per million, rounded half away from zero; 0 when undefined.
func (r Ratio) PPM() int64 {
	if r.Den == 0 {
		return 0
	}
	return r.scaledBy(0, 6).Int64()
}

func (r Ratio) scaled(places int) *big.Int { return r.scaledBy(places, 0) }

// scaledBy returns round(Num/Den × 10^(places+extra)).
func (r Ratio) scaledBy(places, extra int) *big.Int {
	num := new(big.Int).Mul(big.NewInt(r.Num), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places+extra)), nil))
	den := big.NewInt(r.Den)
	if den.Sign() < 0 {
		num.Neg(num)
		den.Neg(den)
	}
	neg := num.Sign() < 0
	num.Abs(num)
	// round half up on the magnitude: (2·num + den) / (2·den)
	num.Mul(num, big.NewInt(2)).Add(num, den)
	q := num.Quo(num, den.Mul(den, big.NewInt(2)))
	if neg {
		q.Neg(q)
	}
	return q
}

// formatScaled writes v / 10^places as a decimal.
func formatScaled(v *big.Int, places int) string {
	neg := v.Sign() < 0
	s := new(big.Int).Abs(v).String()
	if places > 0 {
		if len(s) <= places {
			s = strings.Repeat("0", places-len(s)+1) + s
		}
		s = s[:len(s)-places] + "." + s[len(s)-places:]
	}
	if neg && strings.Trim(s, "0.") != "" {
		s = "-" + s
	}
	return s
}

// FormatScaled formats an integer amount v given in units of 10^-places as a decimal with
// exactly places decimals: FormatScaled(1234, 3) is "1.234". Reports use it for kWh from Wh.
func FormatScaled(v int64, places int) string { return formatScaled(big.NewInt(v), places) }
