package serve_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/serve"
)

// TestScheduleFollowsItsTimeZone: "0 2 * * *" is 02:00 on the clocks of
// the zone given, and Schedule says when the first run is due, in it.
func TestScheduleFollowsItsTimeZone(t *testing.T) {
	zone := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	now := time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		spec string
		now  time.Time // zero: 2026-12-01 22:30 UTC
		loc  *time.Location
		want time.Time // UTC
		text string    // as the start's log line prints it
	}{
		{"0 2 * * *", time.Time{}, zone("Europe/Paris"), time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC), "2026-12-02 02:00 CET"},
		{"0 2 * * *", time.Time{}, zone("America/New_York"), time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC), "2026-12-02 02:00 EST"},
		{"0 2 * * *", time.Time{}, time.UTC, time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC), "2026-12-02 02:00 UTC"},
		// Weekly: the next Monday.
		{"30 3 * * 1", time.Time{}, zone("Europe/Paris"), time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC), "2026-12-07 03:30 CET"},
		// Summer time: Paris is UTC+2 in July.
		{"0 2 * * *", time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), zone("Europe/Paris"), time.Date(2026, 7, 2, 0, 0, 0, 0, time.UTC), "2026-07-02 02:00 CEST"},
		// A CRON_TZ= prefix wins; the time is still told in loc.
		{"CRON_TZ=Asia/Tokyo 0 2 * * *", time.Time{}, time.UTC, time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC), "2026-12-02 17:00 UTC"},
	} {
		t.Run(tt.spec+" "+tt.loc.String(), func(t *testing.T) {
			f := newFixture(t)
			f.now = now
			if !tt.now.IsZero() {
				f.now = tt.now
			}
			srv := f.server(nil)
			next, err := srv.Schedule(tt.spec, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Stop()
			if !next.Equal(tt.want) || next.Location() != tt.loc || next.Format("2006-01-02 15:04 MST") != tt.text {
				t.Errorf("next run %v (%s), want %v (%s)", next, next.Format("2006-01-02 15:04 MST"), tt.want, tt.text)
			}
		})
	}
	f := newFixture(t)
	if _, err := f.srv.Schedule("0 25 * * *", time.UTC); err == nil || !strings.Contains(err.Error(), `serve.schedule "0 25 * * *"`) {
		t.Errorf("a bad schedule: %v", err)
	}
}

func TestZoneName(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	if got := serve.ZoneName(paris); got != "Europe/Paris" {
		t.Errorf("ZoneName(Europe/Paris) = %q", got)
	}
	if got := serve.ZoneName(time.UTC); got != "UTC" {
		t.Errorf("ZoneName(UTC) = %q", got)
	}
	// The local zone is named as the tz database names it, never "Local".
	local := serve.ZoneName(nil)
	if local == "" || local == "Local" {
		t.Errorf("ZoneName(nil) = %q", local)
	}
	if _, set := os.LookupEnv("TZ"); !set {
		if target, err := os.Readlink("/etc/localtime"); err == nil && strings.Contains(target, "zoneinfo/") {
			if want := target[strings.Index(target, "zoneinfo/")+len("zoneinfo/"):]; local != want {
				t.Errorf("ZoneName(nil) = %q, /etc/localtime links to %s", local, target)
			}
		}
	}
}

func TestZoneNameOfAPath(t *testing.T) {
	// TZ=/usr/share/zoneinfo/Europe/Paris makes a Location of that name.
	b, err := os.ReadFile("/usr/share/zoneinfo/Europe/Paris")
	if err != nil {
		t.Skip("no tz database here:", err)
	}
	loc, err := time.LoadLocationFromTZData("/usr/share/zoneinfo/Europe/Paris", b)
	if err != nil {
		t.Fatal(err)
	}
	if got := serve.ZoneName(loc); got != "Europe/Paris" {
		t.Errorf("ZoneName of TZ=/usr/share/zoneinfo/Europe/Paris = %q", got)
	}
}
