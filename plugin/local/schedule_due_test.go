package local

import (
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestScheduleDue(t *testing.T) {
	// 2026-12-07 is a Monday.
	for _, tc := range []struct {
		name   string
		s      Schedule
		at     string
		due    bool
		occ    string // the occurrence that runs
		next   string
		reason string
	}{
		{name: "daily: the occurrence of today is due",
			s:  Schedule{Since: utc("2026-12-01 02:00"), Recurrence: "1d", Enabled: true},
			at: "2026-12-07 09:00", due: true, occ: "2026-12-07 02:00", next: "2026-12-08 02:00"},
		{name: "daily: it does not run twice for one occurrence",
			s:  Schedule{Since: utc("2026-12-01 02:00"), Recurrence: "1d", Enabled: true, Runs: 1, LastOccurrence: utc("2026-12-07 02:00")},
			at: "2026-12-07 23:59", next: "2026-12-08 02:00", reason: "not due (already ran)"},
		{name: "daily: missed occurrences run once, as the latest",
			s:  Schedule{Since: utc("2026-12-01 02:00"), Recurrence: "1 day", Enabled: true, LastOccurrence: utc("2026-12-02 02:00")},
			at: "2026-12-07 02:00", due: true, occ: "2026-12-07 02:00", next: "2026-12-08 02:00"},
		{name: "weekly: every week at since's weekday",
			s:  Schedule{Since: utc("2026-12-02 02:00"), Recurrence: "1w", Enabled: true},
			at: "2026-12-15 00:00", due: true, occ: "2026-12-09 02:00", next: "2026-12-16 02:00"},
		{name: "every 2 hours",
			s:  Schedule{Since: utc("2026-12-07 01:30"), Recurrence: "2h", Enabled: true},
			at: "2026-12-07 06:00", due: true, occ: "2026-12-07 05:30", next: "2026-12-07 07:30"},
		{name: "every 2 hours: exactly at the occurrence counts",
			s:  Schedule{Since: utc("2026-12-07 01:30"), Recurrence: "2h", Enabled: true},
			at: "2026-12-07 03:30", due: true, occ: "2026-12-07 03:30", next: "2026-12-07 05:30"},
		{name: "weekdays: a daily schedule runs on the days named only",
			s:  Schedule{Since: utc("2026-12-01 02:00"), Recurrence: "1d", Weekdays: []string{"mo", "we"}, Enabled: true},
			at: "2026-12-08 12:00", due: true, occ: "2026-12-07 02:00", next: "2026-12-09 02:00"},
		{name: "weekdays: nothing is due on a day not named",
			s:  Schedule{Since: utc("2026-12-01 02:00"), Recurrence: "1d", Weekdays: []string{"mo", "we"}, Enabled: true, Runs: 1, LastOccurrence: utc("2026-12-07 02:00")},
			at: "2026-12-08 12:00", next: "2026-12-09 02:00", reason: "not due (already ran)"},
		{name: "weekdays: the last friday of the month",
			s:  Schedule{Since: utc("2026-11-01 18:00"), Recurrence: "1mo", Weekdays: []string{"l-fr"}, Enabled: true},
			at: "2026-12-07 00:00", due: true, occ: "2026-11-27 18:00", next: "2026-12-25 18:00"},
		{name: "count: the occurrences are used up",
			s:  Schedule{Since: utc("2026-12-01 02:00"), Recurrence: "1d", Count: 3, Enabled: true, LastOccurrence: utc("2026-12-03 02:00")},
			at: "2026-12-07 09:00", reason: "ended (count 3 reached)"},
		{name: "count: a missed last occurrence still runs",
			s:  Schedule{Since: utc("2026-12-01 02:00"), Recurrence: "1d", Count: 3, Enabled: true},
			at: "2026-12-07 09:00", due: true, occ: "2026-12-03 02:00"},
		{name: "count 1 without recurrence runs once at since",
			s:  Schedule{Since: utc("2026-12-07 08:00"), Count: 1, Enabled: true},
			at: "2026-12-07 09:00", due: true, occ: "2026-12-07 08:00"},
		{name: "until passed",
			s:  Schedule{Since: utc("2026-12-01 02:00"), Until: utc("2026-12-04 00:00"), Recurrence: "1d", Enabled: true, LastOccurrence: utc("2026-12-03 02:00")},
			at: "2026-12-07 09:00", reason: "ended (until 2026-12-04 00:00 UTC passed)"},
		{name: "since in the future",
			s:  Schedule{Since: utc("2026-12-10 02:00"), Recurrence: "1d", Enabled: true},
			at: "2026-12-07 09:00", next: "2026-12-10 02:00", reason: "not due yet"},
		{name: "disabled",
			s:  Schedule{Since: utc("2026-12-01 02:00"), Recurrence: "1d"},
			at: "2026-12-07 09:00", next: "2026-12-08 02:00", reason: "disabled"},
		{name: "monthly on the 31st skips shorter months",
			s:  Schedule{Since: utc("2026-10-31 02:00"), Recurrence: "1mo", Enabled: true, Runs: 1, LastOccurrence: utc("2026-10-31 02:00")},
			at: "2026-12-07 09:00", next: "2026-12-31 02:00", reason: "not due (already ran)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.s.DueAt(utc(tc.at))
			if err != nil {
				t.Fatal(err)
			}
			var occ, next time.Time
			if tc.occ != "" {
				occ = utc(tc.occ)
			}
			if tc.next != "" {
				next = utc(tc.next)
			}
			if d.Due != tc.due || !d.Occurrence.Equal(occ) || (tc.next != "" && !d.Next.Equal(next)) || d.Reason != tc.reason {
				t.Errorf("DueAt(%s) = due %v, occurrence %v, next %v, reason %q; want %v, %v, %v, %q",
					tc.at, d.Due, d.Occurrence, d.Next, d.Reason, tc.due, occ, next, tc.reason)
			}
		})
	}
}

func TestScheduleRuleRefusesWhatTheManagerRefuses(t *testing.T) {
	for name, s := range map[string]Schedule{
		"no recurrence and no count":   {Since: utc("2026-12-01 02:00")},
		"a position with a daily rule": {Since: utc("2026-12-01 02:00"), Recurrence: "1d", Weekdays: []string{"1mo"}},
		"a zero recurrence":            {Since: utc("2026-12-01 02:00"), Recurrence: "0d"},
	} {
		if _, err := s.DueAt(utc("2026-12-07 00:00")); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
