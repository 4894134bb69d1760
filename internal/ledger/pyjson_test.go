package ledger

import (
	"testing"

	"github.com/originhub/originhub/internal/ledger/vectors"
)

func TestPyJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1,"b":[1.5,2.0,"x"]}`, `{"a": 1, "b": [1.5, 2.0, "x"]}`},
		{`{"v": 1113342.14}`, `{"v": 1113342.14}`},
		{`[0.00001, 1e16, 1.5e16, 123456789012345.6, 0.0001, -0.0, 1E2]`, `[1e-05, 1e+16, 1.5e+16, 123456789012345.6, 0.0001, -0.0, 100.0]`},
		{`["é", "\u0001", "a\"b\\", "😀", "\u007f"]`, `["\u00e9", "\u0001", "a\"b\\", "\ud83d\ude00", "\u007f"]`},
		{`{"x": null, "y": true, "z": false, "n": -0}`, `{"x": null, "y": true, "z": false, "n": 0}`},
		{`{}`, `{}`},
	}
	for _, tc := range tests {
		got, err := PyJSON([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("PyJSON(%s) = %s, %v, want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`{"a":`, `1 2`, `{"a":1}x`} {
		if _, err := PyJSON([]byte(bad)); err == nil {
			t.Errorf("PyJSON(%s) accepted", bad)
		}
	}
}

func FuzzUnmarshalBatchList(f *testing.F) {
	set := vectors.Load(f)
	for _, bv := range append(set.Valid, set.Invalid...) {
		f.Add(bv.Body())
	}
	f.Add([]byte{0x0a, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := UnmarshalBatchList(b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same batches.
		var enc [][]byte
		for _, m := range list {
			enc = append(enc, m.Marshal())
		}
		again, err := UnmarshalBatchList(MarshalBatchList(enc...))
		if err != nil || len(again) != len(list) {
			t.Fatalf("re-decode = %d, %v; want %d", len(again), err, len(list))
		}
		for _, m := range list {
			for _, tx := range m.Transactions {
				_, _ = UnmarshalTransactionHeader(tx.HeaderBytes)
			}
			_, _ = UnmarshalBatchHeader(m.HeaderBytes)
		}
	})
}
