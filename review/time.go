package review

import (
	"fmt"
	"time"
)

// ParseTime reads a moment as reviewers and scripts write one: an RFC 3339
// time, or a date (YYYY-MM-DD), which means the end of that day in UTC (an
// approval "until 2027-03-31" lasts through that day). "" is the zero time.
func ParseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD) or an RFC 3339 time", v)
	}
	return t.Add(24*time.Hour - time.Second), nil
}
