package dockerresponder

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a config size in bytes: a number, or a string in Docker's
// style with a binary unit ("512m", "2g", "4KiB"; b, k, m, g, t, with or
// without a trailing "b" or "ib", any case).
type ByteSize int64

// unitShift maps a unit letter to its power of 1024.
var unitShift = map[byte]uint{'b': 0, 'k': 10, 'm': 20, 'g': 30, 't': 40}

// ParseByteSize parses "2g", "1.5GiB", "512m", "4096".
func ParseByteSize(s string) (ByteSize, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	in = strings.TrimSuffix(in, "ib")
	if len(in) > 1 && strings.HasSuffix(in, "b") && unitShift[in[len(in)-2]] > 0 {
		in = in[:len(in)-1] // "mb", "gb"
	}
	shift := uint(0)
	if n := len(in); n > 0 {
		if sh, ok := unitShift[in[n-1]]; ok {
			shift, in = sh, in[:n-1]
		}
	}
	num, err := strconv.ParseFloat(strings.TrimSpace(in), 64)
	if err != nil || num < 0 || math.IsInf(num, 0) || math.IsNaN(num) {
		return 0, fmt.Errorf("%q is not a size (use a number of bytes or a string like \"512m\" or \"2g\")", s)
	}
	bytes := num * float64(uint64(1)<<shift)
	if bytes >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return ByteSize(bytes), nil
}

// UnmarshalJSON accepts "2g" or a number of bytes.
func (b *ByteSize) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case float64:
		if v < 0 || v >= math.MaxInt64 || v != math.Trunc(v) {
			return fmt.Errorf("%s is not a whole number of bytes", data)
		}
		*b = ByteSize(v)
		return nil
	case string:
		parsed, err := ParseByteSize(v)
		if err != nil {
			return err
		}
		*b = parsed
		return nil
	default:
		return fmt.Errorf("%s is not a size (use a number of bytes or a string like \"2g\")", data)
	}
}

// String formats the size with the largest binary unit that divides it
// evenly enough to read: 2147483648 is "2GiB", 1610612736 "1.5GiB".
func (b ByteSize) String() string {
	units := []struct {
		name  string
		shift uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}}
	for _, u := range units {
		if size := float64(b) / float64(uint64(1)<<u.shift); size >= 1 {
			return strconv.FormatFloat(math.Round(size*100)/100, 'f', -1, 64) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}
