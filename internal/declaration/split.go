package declaration

import (
	"math/bits"
	"sort"
)

// split divides total (≥ 0) in proportion to weights (each ≥ 0, sum > 0) so that the parts
// sum exactly to total: each part gets floor(total·w/W), and the units left over go one
// each to the largest remainders (ties to the lower index, so the result is deterministic
// for weights in a fixed order). total·w is computed in 128 bits, so nothing overflows.
func split(total int64, weights []int64) []int64 {
	var sum uint64
	for _, w := range weights {
		sum += uint64(w)
	}
	parts := make([]int64, len(weights))
	if total == 0 || sum == 0 {
		return parts
	}
	rems := make([]uint64, len(weights))
	var given int64
	for i, w := range weights {
		hi, lo := bits.Mul64(uint64(total), uint64(w))
		q, r := bits.Div64(hi, lo, sum) // q ≤ total: w ≤ sum, so no overflow
		parts[i], rems[i] = int64(q), r
		given += int64(q)
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]] > rems[order[b]] })
	for k := 0; given < total; k++ {
		parts[order[k]]++
		given++
	}
	return parts
}
