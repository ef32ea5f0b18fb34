package sysmon

import (
	"slices"
	"testing"
)

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		out  []string
		exec bool
		mode Mode
	}{
		{"no GODEBUG", []string{"A=1"}, []string{"A=1", "GODEBUG=" + Schedtrace, saved + "="}, true, Awake},
		{"empty GODEBUG", []string{"GODEBUG=", "A=1"}, []string{"A=1", "GODEBUG=" + Schedtrace, saved + "=="}, true, Awake},
		{"GODEBUG kept", []string{"GODEBUG=gctrace=1"}, []string{"GODEBUG=gctrace=1," + Schedtrace, saved + "==gctrace=1"}, true, Awake},
		{"opted out", []string{OptOut + "=" + OptOutValue, "A=1"}, nil, false, GoDefault},
		{"opted out, schedtrace set by the user", []string{OptOut + "=" + OptOutValue, "GODEBUG=schedtrace=5"}, nil, false, Awake},
		{"other opt-out value", []string{OptOut + "=yes"}, []string{OptOut + "=yes", "GODEBUG=" + Schedtrace, saved + "="}, true, Awake},
		{"schedtrace already set", []string{"GODEBUG=gctrace=1,schedtrace=1000"}, nil, false, Awake},
		{"a setting that merely ends in schedtrace", []string{"GODEBUG=xschedtrace=1"}, []string{"GODEBUG=xschedtrace=1," + Schedtrace, saved + "==xschedtrace=1"}, true, Awake},
		{"re-executed, GODEBUG was unset", []string{"A=1", "GODEBUG=" + Schedtrace, saved + "="}, []string{"A=1"}, false, Awake},
		{"re-executed, GODEBUG was empty", []string{"GODEBUG=" + Schedtrace, saved + "=="}, []string{"GODEBUG="}, false, Awake},
		{"re-executed, GODEBUG was set", []string{"GODEBUG=gctrace=1," + Schedtrace, saved + "==gctrace=1", "B=2"}, []string{"B=2", "GODEBUG=gctrace=1"}, false, Awake},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, exec, mode := plan(tc.env)
			if exec != tc.exec || !slices.Equal(out, tc.out) || mode != tc.mode {
				t.Fatalf("plan(%q) = %q, %v, %s; want %q, %v, %s", tc.env, out, exec, mode, tc.out, tc.exec, tc.mode)
			}
			if exec {
				// The re-executed process restores what the program had.
				back, again, _ := plan(out)
				if again || !slices.Equal(back, tc.env) && !slices.Equal(sorted(back), sorted(tc.env)) {
					t.Fatalf("after re-exec: plan(%q) = %q, %v; want %q, false", out, back, again, tc.env)
				}
			}
		})
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
