package review

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"2027-03-31", time.Date(2027, 3, 31, 23, 59, 59, 0, time.UTC), true}, // through the end of that day
		{"2027-03-31T09:00:00Z", time.Date(2027, 3, 31, 9, 0, 0, 0, time.UTC), true},
		{"31/03/2027", time.Time{}, false},
		{"2027-02-30", time.Time{}, false},
	} {
		got, err := ParseTime(tt.in)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
