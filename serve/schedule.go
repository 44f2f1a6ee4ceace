package serve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule starts runs on a cron expression (five fields, or CRON_TZ=Zone
// and five fields) in time zone loc (nil: the machine's local zone), and
// returns when the first run is due, in loc: "0 2 * * *" is 02:00 on
// loc's clocks, which follow its daylight saving time. A CRON_TZ= prefix
// wins over loc (robfig/cron's rule); the configuration refuses both.
func (s *Server) Schedule(spec string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.Local
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return time.Time{}, fmt.Errorf("serve.schedule %q: %w (five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\")", spec, err)
	}
	c := cron.New(cron.WithLogger(cron.DiscardLogger), cron.WithLocation(loc))
	c.Schedule(sched, cron.FuncJob(func() {
		if err := s.RunNow(context.Background(), "schedule"); err != nil && !errors.Is(err, ErrBusy) {
			s.log.Error("scheduled run failed", "error", err)
		}
	}))
	s.cron = c
	c.Start()
	return sched.Next(s.o.Now().In(loc)), nil
}

// ZoneName names loc as the tz database does ("Europe/Paris"), also for
// the machine's local zone, which Go calls "Local" when it read it from
// /etc/localtime (a link into the database; when it is a copy instead,
// the zone has no name to give).
func ZoneName(loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	name := loc.String()
	if name == "Local" {
		target, err := os.Readlink("/etc/localtime")
		if err != nil {
			return "the machine's local time zone"
		}
		name = target
	}
	// A path into the database, from the link or from TZ=/usr/share/zoneinfo/….
	if _, zone, ok := strings.Cut(name, "zoneinfo/"); ok && zone != "" {
		return zone
	}
	return name
}
